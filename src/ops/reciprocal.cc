// Reciprocal: y = 1 / x.
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Reciprocal, "Reciprocal", kReciprocal)
}  // namespace kaiwu::ops
