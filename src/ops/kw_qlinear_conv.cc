// kaiwu.QLinearConv: QLinearConv (same inputs, same maths) with a `layout` attribute (NCHW | NHWC); the layout pass
// makes it from QLinearConv so that oneDNN's int8 kernels read and write channels-last activations without
// reorders; optional attributes y_min / y_max clamp the output (passes/fuse_qclamp.cc). See ops/qconv_kernel.h.
#include "ops/qconv_kernel.h"

namespace kaiwu::ops {
namespace {
// x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
constexpr QConvInputs kInputs{0, 1, 2, 3, 4, 5, 6, 7, 8};
Status infer(InferContext& ctx) { return infer_qconv(ctx, kInputs); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qconv(init, kInputs, out); }
}  // namespace
extern const OpDef kOp_KwQLinearConv = {"QLinearConv", "kaiwu", infer, create};
}  // namespace kaiwu::ops
