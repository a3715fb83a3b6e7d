// Tanh: y = tanh(x).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Tanh, "Tanh", kTanh)
}  // namespace kaiwu::ops
