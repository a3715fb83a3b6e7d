// kaiwu.QAveragePool (X, x_scale, x_zero_point, y_scale, y_zero_point) with the ONNX AveragePool attributes
// (kernel_shape, strides, pads, auto_pad, ceil_mode, count_include_pad, dilations) and layout NCHW | NHWC:
// y = sat(rne(f32(sum over valid taps of (x - zx)) * (x_scale / (y_scale * f32(count)))) + zy), count = valid taps
// or, with count_include_pad, taps inside the padded input. 1-D / 2-D windows use the optimized kernel.
#include "kernels/x86/qpool.h"
#include "ops/conv_geometry.h"
#include "ops/kw_qcommon.h"
#include "ops/pool_common.h"

namespace kaiwu::ops {
namespace {

bool is_nhwc(const ir::Node& n) { return node_layout(n) == kernels::ActLayout::kNHWC; }

Status params(const ir::Node& n, const std::vector<TensorDesc>& in, kernels::PoolParams* p) {
  std::string why = check_requant_inputs(in);
  const std::string layout = n.attr_string("layout", "NCHW");
  if (why.empty() && layout != "NCHW" && layout != "NHWC") why = "layout must be NCHW or NHWC, got '" + layout + "'";
  if (why.empty() && (in[0].shape.size() < 3 || in[0].shape.size() > 5))
    why = "X must have rank 3..5, got " + shape_to_string(in[0].shape);
  if (!why.empty()) return invalid_argument(n.describe() + ": " + why);
  const Shape& x = in[0].shape;
  KW_RETURN_IF_ERROR(pool_params(n, is_nhwc(n) ? nhwc_to_nchw(x) : x, p));
  p->layout = node_layout(n);
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  const std::vector<TensorDesc>& in = ctx.inputs();
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(params(ctx.node(), in, &p));
  const Shape y = pool_output_shape(p);
  ctx.outputs[0] = {in[4].dtype, is_nhwc(ctx.node()) ? nchw_to_nhwc(y) : y};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(params(init.node, init.inputs, &p));
  const bool constant = init.values[1] && init.values[2] && init.values[3] && init.values[4];
  kernels::QPoolQuant fixed;
  if (constant) fixed = pool_quant_from(*init.values[1], *init.values[2], *init.values[3], *init.values[4]);
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype;
  const bool ref = init.reference_only || p.in_dims.size() > 2;
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const kernels::QPoolQuant q = constant ? fixed : pool_quant_from(*in[1], *in[2], *in[3], *in[4]);
        if (ref || !kernels::x86::qavg_pool(xt, in[0]->raw(), yt, o[0]->raw(), p, q))
          kernels::ref::qavg_pool(xt, in[0]->raw(), yt, o[0]->raw(), p, q);
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwQAveragePool = {"QAveragePool", "kaiwu", infer, create};
}  // namespace kaiwu::ops
