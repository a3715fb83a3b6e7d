// Flatten: the input as a 2-d matrix [prod(dims before axis), prod(dims from axis)]; axis in [-rank, rank].
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  int64_t axis = ctx.node().attr_int("axis", 1);
  if (axis < -r || axis > r)
    return ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= in[i];
  return set_reshaped_output(ctx, {a, b});
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  *out = make_byte_copy_kernel(init);
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Flatten = {"Flatten", "", infer, create};
}  // namespace kaiwu::ops
