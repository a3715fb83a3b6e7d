// Identity: y = x (a byte copy; any dtype).
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  ctx.outputs[0] = ctx.input(0);
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  *out = make_byte_copy_kernel(init);
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Identity = {"Identity", "", infer, create};
}  // namespace kaiwu::ops
