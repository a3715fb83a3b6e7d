// ConvTranspose: N-d grouped, dilated transposed convolution with output_padding / output_shape / auto_pad
// (ONNX opsets 1..19). f32 through oneDNN's deconvolution, with the scalar reference as fallback.
#include "ops/conv_geometry.h"

namespace kaiwu::ops {
namespace {

using kernels::ConvParams;

// Geometry from the node and the shapes of X [N, C, d...] and W [C, M/group, k...].
Status conv_transpose_params(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, ConvParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  int64_t group = 1;
  WindowAttrs wa;
  KW_RETURN_IF_ERROR(read_conv_window(node, x, w, &group, &wa));
  const size_t nsp = x.size() - 2;
  if (w[0] != x[1])
    return fail("X has " + std::to_string(x[1]) + " channels but W " + shape_to_string(w) + " expects " +
                std::to_string(w[0]));
  if (x[1] % group) return fail("input channels are not divisible by group");
  std::vector<int64_t> out_pad = node.attr_ints("output_padding", std::vector<int64_t>(nsp, 0));
  if (out_pad.empty()) out_pad.assign(nsp, 0);
  if (out_pad.size() != nsp) return fail("output_padding " + ints_to_string(out_pad) + " does not match the rank");
  std::vector<int64_t> out_shape = node.attr_ints("output_shape");
  if (out_shape.size() == nsp + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != nsp)
    return fail("output_shape " + ints_to_string(out_shape) + " does not match the rank");
  const bool same = wa.auto_pad == "SAME_UPPER" || wa.auto_pad == "SAME_LOWER";
  std::vector<int64_t> out(nsp);
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = x[i + 2], s = wa.strides[i], ek = (wa.kernel[i] - 1) * wa.dilations[i] + 1;
    if (out_pad[i] < 0) return fail("output_padding must be non-negative");
    const int64_t full = s * (in - 1) + out_pad[i] + ek;  // output size with no padding
    if (!out_shape.empty() || same) {
      const int64_t o = !out_shape.empty() ? out_shape[i] : in * s;
      const int64_t total = full - o;
      // ONNX: SAME_UPPER puts the extra pad at the end; otherwise (SAME_LOWER, NOTSET) at the beginning.
      const int64_t small = total >= 0 ? total / 2 : -((-total + 1) / 2), big = total - small;  // floor division
      wa.pads_begin[i] = wa.auto_pad == "SAME_UPPER" ? small : big;
      wa.pads_end[i] = wa.auto_pad == "SAME_UPPER" ? big : small;
      out[i] = o;
    } else {
      if (wa.auto_pad == "VALID") wa.pads_begin[i] = wa.pads_end[i] = 0;
      out[i] = full - wa.pads_begin[i] - wa.pads_end[i];
    }
    if (out[i] < 0) return fail("negative output size on spatial axis " + std::to_string(i));
  }
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[1] * group;
  p->groups = group;
  p->in_dims.assign(x.begin() + 2, x.end());
  p->out_dims = out;
  set_window(wa, p);
  p->has_bias = has_bias;
  return Status::Ok();
}

Status infer(InferContext& ctx) { return infer_conv_f32(ctx, conv_transpose_params); }

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  return create_conv_f32(init, conv_transpose_params, /*transposed=*/true, out);
}

}  // namespace
extern const OpDef kOp_ConvTranspose = {"ConvTranspose", "", infer, create};
}  // namespace kaiwu::ops
