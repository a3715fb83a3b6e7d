// MatMulInteger (opset 10): int32 matrix product of (A - a_zero_point) and (B - b_zero_point).
// See ops/qmatmul_kernel.h.
#include "ops/qmatmul_kernel.h"

namespace kaiwu::ops {
namespace {
// A, B, a_zero_point, b_zero_point
constexpr QMatMulInputs kInputs{0, -1, 2, 1, -1, 3, -1, -1};
Status infer(InferContext& ctx) { return infer_qmatmul(ctx, kInputs); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qmatmul(init, kInputs, out); }
}  // namespace
extern const OpDef kOp_MatMulInteger = {"MatMulInteger", "", infer, create};
}  // namespace kaiwu::ops
