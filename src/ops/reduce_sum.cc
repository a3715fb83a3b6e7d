// ReduceSum: sum over the given axes (attribute before opset 13, optional input from 13), keepdims,
// noop_with_empty_axes.
#include "ops/reduce_common.h"

namespace kaiwu::ops {
KAIWU_REDUCE_OP(ReduceSum, "ReduceSum", kSum, 13)
}  // namespace kaiwu::ops
