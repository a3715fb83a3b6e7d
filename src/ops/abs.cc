// Abs: y = |x| (float and integer types).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Abs, "Abs", kAbs)
}  // namespace kaiwu::ops
