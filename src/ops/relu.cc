// Relu: y = max(x, 0) (float and signed integer types).
#include "ops/unary_common.h"

namespace kaiwu::ops {
KAIWU_SIMPLE_UNARY_OP(Relu, "Relu", kRelu)
}  // namespace kaiwu::ops
