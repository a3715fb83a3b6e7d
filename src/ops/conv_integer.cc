// ConvInteger (opset 10): int32 convolution of (x - x_zero_point) and (w - w_zero_point). See ops/qconv_kernel.h.
#include "ops/qconv_kernel.h"

namespace kaiwu::ops {
namespace {
// x, w, x_zero_point, w_zero_point
constexpr QConvInputs kInputs{0, -1, 2, 1, -1, 3, -1, -1, -1};
Status infer(InferContext& ctx) { return infer_qconv(ctx, kInputs); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qconv(init, kInputs, out); }
}  // namespace
extern const OpDef kOp_ConvInteger = {"ConvInteger", "", infer, create};
}  // namespace kaiwu::ops
