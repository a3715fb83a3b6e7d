// Upsample (ONNX opsets 7..9, deprecated in 10): nearest or linear with asymmetric coordinates; scales is an
// attribute in opset 7 and an input from opset 9.
#include "ops/resize_common.h"

namespace kaiwu::ops {
namespace {

// The scales as a tensor: the attribute (opset < 9) or input 1.
Status scales_of(const ir::Node& node, int64_t opset, const Tensor* input, Tensor* out) {
  if (opset < 9) {
    if (!node.has_attr("scales")) return invalid_argument(node.describe() + ": the scales attribute is required");
    *out = Tensor::from_vector(node.attr_floats("scales"), {static_cast<int64_t>(node.attr_floats("scales").size())});
    return Status::Ok();
  }
  if (!input) return invalid_argument(node.describe() + ": the scales input is required");
  *out = *input;
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input X");
  kernels::ResizeParams p;
  KW_RETURN_IF_ERROR(resize_attrs(ctx.node(), ctx.opset(), true, &p));
  const Tensor* in = nullptr;
  if (ctx.opset() >= 9) {
    if (!ctx.has_input(1)) return ctx.fail("the scales input is required");
    if (!(in = ctx.require_value(1))) return ctx.value_needed();
  }
  Tensor scales;
  KW_RETURN_IF_ERROR(scales_of(ctx.node(), ctx.opset(), in, &scales));
  KW_RETURN_IF_ERROR(resize_geometry(ctx.node(), ctx.input(0).shape, nullptr, &scales, nullptr, &p));
  ctx.outputs[0] = {ctx.input(0).dtype, p.out_shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ResizeParams p;
  KW_RETURN_IF_ERROR(resize_attrs(init.node, init.opset, true, &p));
  Tensor scales;
  KW_RETURN_IF_ERROR(
      scales_of(init.node, init.opset, init.values.size() > 1 ? init.values[1] : nullptr, &scales));
  KW_RETURN_IF_ERROR(resize_geometry(init.node, init.inputs[0].shape, nullptr, &scales, nullptr, &p));
  return create_resize_kernel(init, init.inputs[0].dtype, p, out);
}

}  // namespace
extern const OpDef kOp_Upsample = {"Upsample", "", infer, create};
}  // namespace kaiwu::ops
