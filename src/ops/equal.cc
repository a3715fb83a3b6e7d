// Equal: c = (a == b), bool output, numpy broadcasting.
#include "ops/binary_common.h"

namespace kaiwu::ops {
KAIWU_BINARY_OP(Equal, "Equal", kEqual)
}  // namespace kaiwu::ops
