// kaiwu.Preprocess: the deployed model's input preprocessing (spec horizon_ptq_spec.md §6, J6 order).
// Inputs: uint8 NHWC frames: nv12 as Y [N,H,W,1] + UV [N,H/2,W/2,2] (pyramid form) or one packed nv12 buffer
// [N,H*3/2,W,1] (Y plane then UV plane; the ddr form); rgb / bgr / yuv444 [N,H,W,3]; gray [N,H,W,1];
// featuremap: any float32 tensor (passed through, only quantized when asked).
// Attributes: input_type_rt, input_type_train (strings, required), input_space_and_range (regular | bt601_video),
// mean, scale, std (floats: one value or one per output channel; scale = 1/std; at most one of scale/std),
// output_layout (NCHW | NHWC, default NHWC), output_scale (float) + output_zero_point (int) + output_dtype
// (int8 | uint8, default int8) to quantize the result like QuantizeLinear.
// Maths per pixel: v = float(pixel) converted to input_type_train (BT.601: kernels/ref/preprocess.h), clipped to
// 0..255 when converted; y = (v - mean[c]) * scale[c] in float32; out = y or saturate(rne(y / output_scale) + zp).
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/qmath.h"
#include "kernels/ref/preprocess.h"
#include "kernels/x86/preprocess.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

struct Parsed {
  kernels::ref::PreprocessParams p;
  bool featuremap = false;
  DType out_type = DType::kF32;
  Shape out_shape;
};

std::string shape_str(const Shape& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? "," : "") + std::to_string(s[i]);
  return o + "]";
}

// Reads one of mean / scale / std into `dst` (C values). Returns "" or the reason.
std::string read_values(const ir::Node& node, const char* key, int C, float* dst, bool invert) {
  if (!node.has_attr(key)) return "";
  std::vector<float> v = node.attr_floats(key);
  if (v.size() != 1 && v.size() != static_cast<size_t>(C))
    return std::string(key) + " needs 1 or " + std::to_string(C) + " values, got " + std::to_string(v.size());
  for (int c = 0; c < C; ++c) {
    double x = v.size() == 1 ? v[0] : v[c];
    if (!std::isfinite(x)) return std::string(key) + " values must be finite";
    if (invert) {
      if (x == 0) return "std values must not be 0";
      x = 1.0 / x;
    }
    dst[c] = static_cast<float>(x);
  }
  return "";
}

// Validates the node against its input descriptors and fills `out`. Returns "" or the reason.
std::string parse(const ir::Node& node, const std::vector<TensorDesc>& in, Parsed* out) {
  const std::string rt = node.attr_string("input_type_rt", ""), train = node.attr_string("input_type_train", "");
  const std::string range = node.attr_string("input_space_and_range", "regular");
  const std::string layout = node.attr_string("output_layout", "NHWC");
  if (rt.empty() || train.empty()) return "attributes input_type_rt and input_type_train are required";
  if (layout != "NCHW" && layout != "NHWC") return "output_layout must be NCHW or NHWC, got '" + layout + "'";
  if (node.has_attr("scale") && node.has_attr("std")) return "scale and std cannot both be set (scale = 1/std)";
  kernels::ref::PreprocessParams& p = out->p;
  if (node.has_attr("output_scale")) {
    const std::string dt = node.attr_string("output_dtype", "int8");
    if (dt != "int8" && dt != "uint8") return "output_dtype must be int8 or uint8, got '" + dt + "'";
    out->out_type = dt == "int8" ? DType::kI8 : DType::kU8;
    p.q_scale = node.attr_float("output_scale", 1.f);
    if (!(p.q_scale > 0) || !std::isfinite(p.q_scale)) return "output_scale must be finite and > 0";
    const int64_t zp = node.attr_int("output_zero_point", 0);
    if (zp < (dt == "int8" ? -128 : 0) || zp > (dt == "int8" ? 127 : 255))
      return "output_zero_point " + std::to_string(zp) + " is outside the " + dt + " range";
    p.q_zero_point = static_cast<int32_t>(zp);
  } else if (node.has_attr("output_zero_point") || node.has_attr("output_dtype")) {
    return "output_zero_point / output_dtype need output_scale";
  }
  p.out_type = out->out_type;
  if (rt == "featuremap" || train == "featuremap") {
    if (rt != train) return "illegal type pair: input_type_rt " + rt + " cannot feed input_type_train " + train;
    if (node.has_attr("mean") || node.has_attr("scale") || node.has_attr("std"))
      return "mean/scale/std are not allowed on a featuremap input";
    if (in.size() != 1 || in[0].dtype != DType::kF32) return "a featuremap input must be one float32 tensor";
    out->featuremap = true;
    out->out_shape = in[0].shape;
    return "";
  }
  std::string why = kernels::ref::preprocess_colour(rt, train, range, &p);
  if (!why.empty()) return why;
  const int C = p.out_channels;
  for (const char* k : {"mean", "scale", "std"}) {
    why = read_values(node, k, C, std::string(k) == "mean" ? p.mean : p.scale, std::string(k) == "std");
    if (!why.empty()) return why;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].dtype != DType::kU8) return "input " + std::to_string(i) + " must be uint8";
    if (in[i].shape.size() != 4) return "input " + std::to_string(i) + " must be 4-D NHWC, got " + shape_str(in[i].shape);
  }
  int64_t N, H, W;
  if (p.nv12) {
    if (in.size() == 2) {
      const Shape &y = in[0].shape, &uv = in[1].shape;
      N = y[0], H = y[1], W = y[2];
      if (y[3] != 1) return "nv12 Y input must be [N,H,W,1], got " + shape_str(y);
      if (H % 2 || W % 2) return "nv12 type does not support odd size (" + std::to_string(H) + "x" + std::to_string(W) + ")";
      if (uv[0] != N || uv[1] != H / 2 || uv[2] != W / 2 || uv[3] != 2)
        return "nv12 UV input must be [N,H/2,W/2,2] = " + shape_str({N, H / 2, W / 2, 2}) + ", got " + shape_str(uv);
      p.in_batch_stride = H * W;
      p.uv_batch_stride = H * W / 2;
    } else if (in.size() == 1) {
      const Shape& s = in[0].shape;
      N = s[0], W = s[2];
      if (s[3] != 1 || s[1] % 3) return "a packed nv12 input must be [N,H*3/2,W,1], got " + shape_str(s);
      H = s[1] / 3 * 2;
      if (H % 2 || W % 2) return "nv12 type does not support odd size (" + std::to_string(H) + "x" + std::to_string(W) + ")";
      p.in_batch_stride = p.uv_batch_stride = H * W * 3 / 2;
    } else {
      return "nv12 takes a Y and a UV input (or one packed nv12 buffer), got " + std::to_string(in.size()) + " inputs";
    }
  } else {
    if (in.size() != 1) return rt + " takes one input, got " + std::to_string(in.size());
    const Shape& s = in[0].shape;
    N = s[0], H = s[1], W = s[2];
    if (s[3] != p.in_channels)
      return rt + " input must be [N,H,W," + std::to_string(p.in_channels) + "] (NHWC), got " + shape_str(s);
    p.in_batch_stride = H * W * p.in_channels;
  }
  p.batch = N, p.height = H, p.width = W;
  p.nchw = layout == "NCHW";
  out->out_shape = p.nchw ? Shape{N, C, H, W} : Shape{N, H, W, C};
  return "";
}

Status infer(InferContext& ctx) {
  if (ctx.node().outputs.size() != 1) return ctx.fail("kaiwu.Preprocess has one output");
  Parsed ps;
  std::string why = parse(ctx.node(), ctx.inputs(), &ps);
  if (!why.empty()) return ctx.fail(why);
  ctx.outputs[0] = {ps.out_type, ps.out_shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  Parsed ps;
  std::string why = parse(init.node, init.inputs, &ps);
  if (!why.empty()) return init.fail(why);
  if (ps.featuremap) {
    const DType ot = ps.out_type;
    const float qs = ps.p.q_scale;
    const int32_t zp = ps.p.q_zero_point;
    *out = make_kernel([ot, qs, zp](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) -> Status {
      const float* x = in[0]->data<float>();
      const int64_t n = in[0]->numel();
      if (ot == DType::kF32) {
        float* y = o[0]->data<float>();
        for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      } else if (ot == DType::kI8) {
        qmath::quantize_array<int8_t>(x, o[0]->data<int8_t>(), n, qs, zp);
      } else {
        qmath::quantize_array<uint8_t>(x, o[0]->data<uint8_t>(), n, qs, zp);
      }
      return Status::Ok();
    });
    return Status::Ok();
  }
  const bool vec = !init.reference_only && kernels::x86::preprocess_available();
  const kernels::ref::PreprocessParams p = ps.p;
  *out = make_kernel(
      [p, vec](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) -> Status {
        const uint8_t* src = in[0]->data<uint8_t>();
        const uint8_t* uv = nullptr;
        if (p.nv12) uv = in.size() == 2 ? in[1]->data<uint8_t>() : src + p.height * p.width;
        void* dst = o[0]->data<void>();
        const int64_t rows = p.batch * p.height;
        const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, p.width));
        parallel_for(rows, grain, [&](int64_t b, int64_t e) {
          if (vec)
            kernels::x86::preprocess(src, uv, dst, p, b, e);
          else
            kernels::ref::preprocess(src, uv, dst, p, b, e);
        });
        return Status::Ok();
      },
      vec ? "avx512" : "ref");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwPreprocess = {"Preprocess", "kaiwu", infer, create};
}  // namespace kaiwu::ops
