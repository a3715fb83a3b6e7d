// MaxPool (ONNX opsets 1..19): N-d max pooling with pads, strides, dilations, ceil_mode, auto_pad and the optional
// Indices output (storage_order). f32 / int8 / uint8 1-D / 2-D without Indices use the optimized kernel; the rest
// the reference.
#include "kernels/x86/pool.h"
#include "ops/pool_common.h"

namespace kaiwu::ops {
namespace {

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const TensorDesc& x = ctx.input(0);
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(pool_params(ctx.node(), x.shape, &p));
  Shape y = pool_output_shape(p);
  ctx.outputs[0] = {x.dtype, y};
  if (ctx.outputs.size() > 1) ctx.outputs[1] = {DType::kI64, y};
  return Status::Ok();
}

template <typename T>
std::unique_ptr<Kernel> ref_kernel(const kernels::PoolParams& p, bool col) {
  return make_kernel([p, col](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    int64_t* idx = o.size() > 1 ? o[1]->data<int64_t>() : nullptr;
    kernels::ref::max_pool<T>(p, in[0]->data<T>(), o[0]->data<T>(), idx, col);
    return Status::Ok();
  });
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(pool_params(init.node, init.inputs[0].shape, &p));
  const bool col = init.node.attr_int("storage_order", 0) != 0;
  const bool want_indices = init.node.outputs.size() > 1 && !init.node.outputs[1].empty();
  switch (init.inputs[0].dtype) {
    case DType::kF32:
      if (!init.reference_only && !want_indices && p.in_dims.size() <= 2) {
        *out = make_kernel(
            [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
              kernels::x86::max_pool_f32(p, in[0]->data<float>(), o[0]->data<float>());
              return Status::Ok();
            },
            "x86");
        return Status::Ok();
      }
      *out = ref_kernel<float>(p, col);
      return Status::Ok();
    case DType::kF64: *out = ref_kernel<double>(p, col); return Status::Ok();
    case DType::kI16: *out = ref_kernel<int16_t>(p, col); return Status::Ok();  // int16 fixed-point models
    case DType::kI8:
      if (!init.reference_only && !want_indices && p.in_dims.size() <= 2) {
        *out = make_kernel(
            [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
              kernels::x86::max_pool_i8(p, in[0]->data<int8_t>(), o[0]->data<int8_t>());
              return Status::Ok();
            },
            "x86");
        return Status::Ok();
      }
      *out = ref_kernel<int8_t>(p, col);
      return Status::Ok();
    case DType::kU8:
      if (!init.reference_only && !want_indices && p.in_dims.size() <= 2) {
        *out = make_kernel(
            [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
              kernels::x86::max_pool_u8(p, in[0]->data<uint8_t>(), o[0]->data<uint8_t>());
              return Status::Ok();
            },
            "x86");
        return Status::Ok();
      }
      *out = ref_kernel<uint8_t>(p, col);
      return Status::Ok();
    default:
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[0].dtype) + " is not supported");
  }
}

}  // namespace
extern const OpDef kOp_MaxPool = {"MaxPool", "", infer, create};
}  // namespace kaiwu::ops
