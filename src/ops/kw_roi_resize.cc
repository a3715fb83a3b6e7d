// kaiwu.RoiResize: the resizer input source (horizon_ptq_spec.md §1.4 input_source, §4.4 insert_roi_resize): crops
// an ROI out of a camera frame of any (even) size and resizes it bilinearly to the model's input size; the result
// feeds kaiwu.Preprocess (colour conversion, mean/scale, layout and quantization stay there).
// Inputs: mode nv12: Y [N,Hf,Wf,1] uint8, UV [N,Hf/2,Wf/2,2] uint8, ROI [N,4] int32; mode gray: Y, ROI.
// The ROI is (left, top, right, bottom) in inclusive luma pixel coordinates, as hrt_model_exec's --roi "l,t,r,b";
// it must lie inside the frame with right >= left and bottom >= top (any parity, any size: the ROI may be smaller or
// larger than the output); a bad ROI fails the run with a message naming the ROI input, the frame is not read.
// Attributes: height, width (ints, required: the output luma size, even for nv12), mode (nv12 | gray, default nv12).
// Outputs: nv12: Y [N,height,width,1] + UV [N,height/2,width/2,2]; gray: Y [N,height,width,1] (uint8).
// Sampling: align_corners = false with half-pixel centres over the ROI, clamped at the frame border, 11-bit weights,
// exact integer arithmetic; see kernels/ref/roi_resize.h for the formula (kernels/x86/roi_resize.h: the AVX-512
// version, bit-identical; KernelInit::reference_only selects the scalar one). U and V are resized as their own plane
// (chroma sample centres at the centre of each 2x2 luma block of the output).
#include <algorithm>

#include "core/parallel.h"
#include "kernels/ref/roi_resize.h"
#include "kernels/x86/roi_resize.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

std::string shape_str(const Shape& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? "," : "") + std::to_string(s[i]);
  return o + "]";
}

struct Parsed {
  kernels::ref::RoiResizeParams p;
  int roi_index = 2;
};

// Checks attributes, dtypes and ranks (not the frame's size relations: symbolic frame dims may be bound to
// unrelated placeholder values during static shape inference; `concrete` adds those checks).
std::string parse(const ir::Node& node, const std::vector<TensorDesc>& in, bool concrete, Parsed* out) {
  kernels::ref::RoiResizeParams& p = out->p;
  const std::string mode = node.attr_string("mode", "nv12");
  if (mode != "nv12" && mode != "gray") return "mode must be nv12 or gray, got '" + mode + "'";
  p.nv12 = mode == "nv12";
  const size_t want = p.nv12 ? 3 : 2;
  if (in.size() != want)
    return "mode " + mode + " takes " + std::to_string(want) + " inputs (" + (p.nv12 ? "Y, UV, ROI" : "Y, ROI") +
           "), got " + std::to_string(in.size());
  if (node.outputs.size() != (p.nv12 ? 2u : 1u))
    return "mode " + mode + " has " + (p.nv12 ? "2 outputs (Y, UV)" : "1 output (Y)");
  if (!node.has_attr("height") || !node.has_attr("width")) return "attributes height and width are required";
  p.out_h = node.attr_int("height", 0);
  p.out_w = node.attr_int("width", 0);
  if (p.out_h <= 0 || p.out_w <= 0 || p.out_h > (1 << 16) || p.out_w > (1 << 16))
    return "height and width must be in 1..65536, got " + std::to_string(p.out_h) + "x" + std::to_string(p.out_w);
  if (p.nv12 && (p.out_h % 2 || p.out_w % 2))
    return "nv12 output needs an even size, got " + std::to_string(p.out_h) + "x" + std::to_string(p.out_w);
  out->roi_index = p.nv12 ? 2 : 1;
  for (int i = 0; i < out->roi_index; ++i) {
    if (in[i].dtype != DType::kU8) return "input " + std::to_string(i) + " '" + node.inputs[i] + "' must be uint8";
    if (in[i].shape.size() != 4)
      return "input " + std::to_string(i) + " '" + node.inputs[i] + "' must be 4-D NHWC, got " + shape_str(in[i].shape);
  }
  const Shape& y = in[0].shape;
  if (y[3] != 1) return "the Y input '" + node.inputs[0] + "' must be [N,H,W,1], got " + shape_str(y);
  p.batch = y[0], p.frame_h = y[1], p.frame_w = y[2];
  if (p.nv12 && in[1].shape[3] != 2) return "the UV input '" + node.inputs[1] + "' must be [N,H/2,W/2,2], got " + shape_str(in[1].shape);
  const TensorDesc& roi = in[out->roi_index];
  const std::string& roi_name = node.inputs[out->roi_index];
  if (roi.dtype != DType::kI32) return "the ROI input '" + roi_name + "' must be int32";
  if (roi.shape.size() != 2 || roi.shape[1] != 4)
    return "the ROI input '" + roi_name + "' must be [N,4] (left, top, right, bottom), got " + shape_str(roi.shape);
  if (!concrete) return "";
  if (roi.shape[0] != p.batch)
    return "the ROI input '" + roi_name + "' " + shape_str(roi.shape) + " needs one row per frame of the batch (" +
           std::to_string(p.batch) + ")";
  if (p.frame_h < 1 || p.frame_w < 1) return "the frame '" + node.inputs[0] + "' is empty: " + shape_str(y);
  if (p.frame_h > (1 << 20) || p.frame_w > (1 << 20)) return "the frame '" + node.inputs[0] + "' is too large: " + shape_str(y);
  if (p.nv12) {
    if (p.frame_h % 2 || p.frame_w % 2)
      return "nv12 type does not support odd size: the frame '" + node.inputs[0] + "' is " + shape_str(y);
    const Shape& uv = in[1].shape;
    if (uv[0] != p.batch || uv[1] != p.frame_h / 2 || uv[2] != p.frame_w / 2)
      return "the UV input '" + node.inputs[1] + "' must be [N,H/2,W/2,2] = " +
             shape_str({p.batch, p.frame_h / 2, p.frame_w / 2, 2}) + " for the Y input " + shape_str(y) + ", got " +
             shape_str(uv);
  }
  return "";
}

Status infer(InferContext& ctx) {
  Parsed ps;
  std::string why = parse(ctx.node(), ctx.inputs(), false, &ps);
  if (!why.empty()) return ctx.fail(why);
  const auto& p = ps.p;
  ctx.outputs[0] = {DType::kU8, {p.batch, p.out_h, p.out_w, 1}};
  if (p.nv12) ctx.outputs[1] = {DType::kU8, {p.batch, p.out_h / 2, p.out_w / 2, 2}};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  Parsed ps;
  std::string why = parse(init.node, init.inputs, true, &ps);
  if (!why.empty()) return init.fail(why);
  const kernels::ref::RoiResizeParams p = ps.p;
  const int ri = ps.roi_index;
  const std::string where = "input '" + init.node.inputs[ri] + "'";  // the executor prefixes the node
  const bool vec = !init.reference_only && kernels::x86::roi_resize_available();
  *out = make_kernel([p, ri, where, vec](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) -> Status {
    const int32_t* roi = in[ri]->data<int32_t>();
    for (int64_t n = 0; n < p.batch; ++n) {
      std::string why = kernels::ref::check_roi(roi + 4 * n, p.frame_h, p.frame_w);
      if (!why.empty())
        return invalid_argument(where + (p.batch > 1 ? " (frame " + std::to_string(n) + ")" : std::string()) + ": " + why);
    }
    const int planes = p.nv12 ? 2 : 1;
    for (int64_t n = 0; n < p.batch; ++n) {
      const int32_t* r = roi + 4 * n;
      for (int pl = 0; pl < planes; ++pl) {
        const int sub = pl == 0 ? 1 : 2, ch = pl == 0 ? 1 : 2;
        const int64_t fh = p.frame_h / sub, fw = p.frame_w / sub, oh = p.out_h / sub, ow = p.out_w / sub;
        kernels::ref::RoiAxis ay, ax;
        kernels::ref::roi_axis(r[1], int64_t{r[3]} - r[1] + 1, sub, oh, fh, &ay);
        kernels::ref::roi_axis(r[0], int64_t{r[2]} - r[0] + 1, sub, ow, fw, &ax);
        const uint8_t* src = in[pl]->data<uint8_t>() + n * fh * fw * ch;
        uint8_t* dst = o[pl]->data<uint8_t>() + n * oh * ow * ch;
        const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, ow * ch));
        parallel_for(oh, grain, [&](int64_t b, int64_t e) {
          if (vec)
            kernels::x86::roi_resize_plane(src, fh, fw, ch, ay, ax, dst, b, e);
          else
            kernels::ref::roi_resize_plane(src, fw, ch, ay, ax, dst, b, e);
        });
      }
    }
    return Status::Ok();
  }, vec ? "avx512" : "ref");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwRoiResize = {"RoiResize", "kaiwu", infer, create};
}  // namespace kaiwu::ops
