// STUB: Log is not implemented yet.
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) { return unsupported(ctx.node().describe() + ": not implemented yet"); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>*) { return init.fail("not implemented yet"); }
}  // namespace
extern const OpDef kOp_Log = {"Log", "", infer, create};
}  // namespace kaiwu::ops
