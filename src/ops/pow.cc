// Pow: z = x ^ y with numpy broadcasting; z has x's type. Mixed types compute in f64 (or i64 for integers only)
// and cast back. A constant scalar exponent of 2, 0.5 or 1 on f32 becomes a unary kernel.
#include "ops/binary_common.h"
#include "ops/unary_common.h"

namespace kaiwu::ops {
namespace {

Status infer(InferContext& ctx) { return infer_binary(ctx, kernels::BinaryKind::kPow); }

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Tensor* e = init.values.size() > 1 ? init.values[1] : nullptr;
  if (init.inputs[0].dtype == DType::kF32 && e && e->numel() == 1 && dtype_is_float(e->dtype()) &&
      init.outputs[0].shape == init.inputs[0].shape && init.opset >= 7) {
    const double v = e->get_f64(0);
    kernels::ref::UnaryParams p;
    bool special = true;
    if (v == 2.0)
      p.kind = kernels::ref::UnaryKind::kSquare;
    else if (v == 0.5)
      p.kind = kernels::ref::UnaryKind::kSqrt;
    else if (v == 1.0)
      p.kind = kernels::ref::UnaryKind::kIdentity;
    else
      special = false;
    if (special) return create_unary(init, p, out);
  }
  return create_binary(init, kernels::BinaryKind::kPow, out);
}

}  // namespace
extern const OpDef kOp_Pow = {"Pow", "", infer, create};
}  // namespace kaiwu::ops
