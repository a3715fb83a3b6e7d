// AveragePool (ONNX opsets 7..19): N-d average pooling with pads, strides, ceil_mode, auto_pad,
// count_include_pad and (opset 19) dilations. f32 1-D/2-D use the optimized kernel; 3-D the reference.
#include "kernels/x86/pool.h"
#include "ops/pool_common.h"

namespace kaiwu::ops {
namespace {

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(pool_params(ctx.node(), x.shape, &p));
  ctx.outputs[0] = {x.dtype, pool_output_shape(p)};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  if (init.inputs[0].dtype != DType::kF32)
    return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[0].dtype) + " is not supported");
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(pool_params(init.node, init.inputs[0].shape, &p));
  if (!init.reference_only && p.in_dims.size() <= 2) {
    *out = make_kernel(
        [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
          kernels::x86::avg_pool_f32(p, in[0]->data<float>(), o[0]->data<float>());
          return Status::Ok();
        },
        "x86");
    return Status::Ok();
  }
  *out = make_kernel([p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    kernels::ref::avg_pool_f32(p, in[0]->data<float>(), o[0]->data<float>());
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_AveragePool = {"AveragePool", "", infer, create};
}  // namespace kaiwu::ops
