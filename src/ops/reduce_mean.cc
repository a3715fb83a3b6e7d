// ReduceMean: mean over the given axes (attribute before opset 18, optional input from 18), keepdims,
// noop_with_empty_axes.
#include "ops/reduce_common.h"

namespace kaiwu::ops {
KAIWU_REDUCE_OP(ReduceMean, "ReduceMean", kMean, 18)
}  // namespace kaiwu::ops
