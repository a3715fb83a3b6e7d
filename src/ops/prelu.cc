// PRelu: y = x < 0 ? slope * x : x, slope broadcast unidirectionally to x.
#include "ops/binary_common.h"

namespace kaiwu::ops {
extern const OpDef kOp_PRelu = {"PRelu", "", infer_prelu, create_prelu};
}  // namespace kaiwu::ops
