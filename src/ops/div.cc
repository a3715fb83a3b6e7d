// Div: c = a / b with numpy broadcasting; integer division truncates toward zero (x / 0 = 0).
#include "ops/binary_common.h"

namespace kaiwu::ops {
KAIWU_BINARY_OP(Div, "Div", kDiv)
}  // namespace kaiwu::ops
