// STUB: kaiwu.Preprocess - being implemented.
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) { return ctx.fail("kaiwu.Preprocess is not implemented yet"); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return unsupported("kaiwu.Preprocess is not implemented yet"); }
}  // namespace
extern const OpDef kOp_KwPreprocess = {"Preprocess", "kaiwu", infer, create};
}  // namespace kaiwu::ops
