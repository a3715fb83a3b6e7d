// Where: out = cond ? x : y, all three broadcast together.
#include "ops/binary_common.h"

namespace kaiwu::ops {
extern const OpDef kOp_Where = {"Where", "", infer_where, create_where};
}  // namespace kaiwu::ops
