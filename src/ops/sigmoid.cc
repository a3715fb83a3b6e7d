// Sigmoid: y = 1 / (1 + exp(-x)).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Sigmoid, "Sigmoid", kSigmoid)
}  // namespace kaiwu::ops
