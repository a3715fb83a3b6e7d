// Erf: y = erf(x).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Erf, "Erf", kErf)
}  // namespace kaiwu::ops
