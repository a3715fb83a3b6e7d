// kaiwu.QGlobalAveragePool (X, x_scale, x_zero_point, y_scale, y_zero_point), layout NCHW (default) | NHWC, X rank 4:
// y[n, c] = sat(rne(f32(sum_hw x - H*W*zx) * (x_scale / (y_scale * f32(H*W)))) + zy); Y [N, C, 1, 1] or
// [N, 1, 1, C] of y_zero_point's dtype. Vectorized over channels for NHWC.
#include "kernels/x86/qpool.h"
#include "ops/conv_geometry.h"
#include "ops/kw_qcommon.h"

namespace kaiwu::ops {
namespace {

std::string check(const ir::Node& n, const std::vector<TensorDesc>& in) {
  std::string why = check_requant_inputs(in);
  if (!why.empty()) return why;
  const std::string layout = n.attr_string("layout", "NCHW");
  if (layout != "NCHW" && layout != "NHWC") return "layout must be NCHW or NHWC, got '" + layout + "'";
  if (in[0].shape.size() != 4) return "X must have rank 4, got " + shape_to_string(in[0].shape);
  return "";
}

Status infer(InferContext& ctx) {
  const std::vector<TensorDesc>& in = ctx.inputs();
  std::string why = check(ctx.node(), in);
  if (!why.empty()) return ctx.fail(why);
  const Shape& x = in[0].shape;
  const bool nhwc = node_layout(ctx.node()) == kernels::ActLayout::kNHWC;
  ctx.outputs[0] = {in[4].dtype, nhwc ? Shape{x[0], 1, 1, x[3]} : Shape{x[0], x[1], 1, 1}};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  std::string why = check(init.node, init.inputs);
  if (!why.empty()) return init.fail(why);
  const kernels::ActLayout layout = node_layout(init.node);
  const Shape& x = init.inputs[0].shape;
  const bool nhwc = layout == kernels::ActLayout::kNHWC;
  const int64_t n = x[0], c = nhwc ? x[3] : x[1], spatial = nhwc ? x[1] * x[2] : x[2] * x[3];
  const bool constant = init.values[1] && init.values[2] && init.values[3] && init.values[4];
  kernels::QPoolQuant fixed;
  if (constant) fixed = pool_quant_from(*init.values[1], *init.values[2], *init.values[3], *init.values[4]);
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype;
  const bool ref = init.reference_only;
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const kernels::QPoolQuant q = constant ? fixed : pool_quant_from(*in[1], *in[2], *in[3], *in[4]);
        if (ref) kernels::ref::qglobal_avg_pool(xt, in[0]->raw(), yt, o[0]->raw(), n, c, spatial, layout, q);
        else kernels::x86::qglobal_avg_pool(xt, in[0]->raw(), yt, o[0]->raw(), n, c, spatial, layout, q);
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwQGlobalAveragePool = {"QGlobalAveragePool", "kaiwu", infer, create};
}  // namespace kaiwu::ops
