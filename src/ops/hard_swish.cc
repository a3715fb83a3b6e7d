// HardSwish: y = x * max(0, min(1, x / 6 + 0.5)).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(HardSwish, "HardSwish", kHardSwish)
}  // namespace kaiwu::ops
