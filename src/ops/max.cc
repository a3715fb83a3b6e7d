// Max: elementwise maximum of 1..N inputs broadcast together (NaN propagates).
#include "ops/binary_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) { return infer_variadic(ctx, kernels::BinaryKind::kMax); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  return create_variadic(init, kernels::BinaryKind::kMax, out);
}
}  // namespace
extern const OpDef kOp_Max = {"Max", "", infer, create};
}  // namespace kaiwu::ops
