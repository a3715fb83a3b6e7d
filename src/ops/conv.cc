// Conv: N-d grouped, dilated, padded convolution (ONNX opsets 1..19). f32 through oneDNN (NCHW activations),
// with the scalar reference as fallback and for reference_only sessions.
#include "ops/conv_geometry.h"

namespace kaiwu::ops {
namespace {

Status infer(InferContext& ctx) { return infer_conv_f32(ctx, conv_geometry); }

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  return create_conv_f32(init, conv_geometry, /*transposed=*/false, out);
}

}  // namespace
extern const OpDef kOp_Conv = {"Conv", "", infer, create};
}  // namespace kaiwu::ops
