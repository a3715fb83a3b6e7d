// Relu: y = max(x, 0).
#include "ops/unary_common.h"

namespace kaiwu::ops {
namespace {
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  return create_unary_f32(init, {kernels::ref::UnaryKind::kRelu}, out);
}
}  // namespace
extern const OpDef kOp_Relu = {"Relu", "", infer_same_as_input, create};
}  // namespace kaiwu::ops
