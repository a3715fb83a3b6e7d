// QLinearMatMul (opset 10): integer matrix product of quantized a and b, requantized to y's scale and zero point.
// See ops/qmatmul_kernel.h.
#include "ops/qmatmul_kernel.h"

namespace kaiwu::ops {
namespace {
// a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
constexpr QMatMulInputs kInputs{0, 1, 2, 3, 4, 5, 6, 7};
Status infer(InferContext& ctx) { return infer_qmatmul(ctx, kInputs); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qmatmul(init, kInputs, out); }
}  // namespace
extern const OpDef kOp_QLinearMatMul = {"QLinearMatMul", "", infer, create};
}  // namespace kaiwu::ops
