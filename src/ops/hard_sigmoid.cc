// HardSigmoid: y = max(0, min(1, alpha * x + beta)) (alpha 0.2, beta 0.5 by default).
#include "ops/unary_common.h"

namespace kaiwu::ops {
namespace {
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ref::UnaryParams p;
  p.kind = kernels::ref::UnaryKind::kHardSigmoid;
  p.alpha = init.node.attr_float("alpha", 0.2f);
  p.beta = init.node.attr_float("beta", 0.5f);
  return create_unary(init, p, out);
}
}  // namespace
extern const OpDef kOp_HardSigmoid = {"HardSigmoid", "", infer_same_as_input, create};
}  // namespace kaiwu::ops
