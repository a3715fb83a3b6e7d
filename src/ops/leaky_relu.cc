// LeakyRelu: y = x < 0 ? alpha * x : x (alpha defaults to 0.01).
#include "ops/unary_common.h"

namespace kaiwu::ops {
namespace {
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ref::UnaryParams p;
  p.kind = kernels::ref::UnaryKind::kLeakyRelu;
  p.alpha = init.node.attr_float("alpha", 0.01f);
  return create_unary(init, p, out);
}
}  // namespace
extern const OpDef kOp_LeakyRelu = {"LeakyRelu", "", infer_same_as_input, create};
}  // namespace kaiwu::ops
