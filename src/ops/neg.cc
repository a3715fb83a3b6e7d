// Neg: y = -x (float and signed integer types).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Neg, "Neg", kNeg)
}  // namespace kaiwu::ops
