// Exp: y = exp(x).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Exp, "Exp", kExp)
}  // namespace kaiwu::ops
