// Log: y = log(x).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Log, "Log", kLog)
}  // namespace kaiwu::ops
