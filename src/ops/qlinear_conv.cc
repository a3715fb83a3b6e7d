// QLinearConv (opset 10): integer convolution of quantized x and w (per-tensor or per-output-channel weight scales
// and zero points, int32 bias), requantized to y's scale and zero point. See ops/qconv_kernel.h.
#include "ops/qconv_kernel.h"

namespace kaiwu::ops {
namespace {
// x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
constexpr QConvInputs kInputs{0, 1, 2, 3, 4, 5, 6, 7, 8};
Status infer(InferContext& ctx) { return infer_qconv(ctx, kInputs); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qconv(init, kInputs, out); }
}  // namespace
extern const OpDef kOp_QLinearConv = {"QLinearConv", "", infer, create};
}  // namespace kaiwu::ops
