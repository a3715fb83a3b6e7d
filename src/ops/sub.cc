// Sub: c = a - b with numpy broadcasting (legacy broadcast/axis attributes before opset 7).
#include "ops/binary_common.h"

namespace kaiwu::ops {
KAIWU_BINARY_OP(Sub, "Sub", kSub)
}  // namespace kaiwu::ops
