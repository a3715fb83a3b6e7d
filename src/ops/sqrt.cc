// Sqrt: y = sqrt(x).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Sqrt, "Sqrt", kSqrt)
}  // namespace kaiwu::ops
