// SpaceToDepth: [N, C, H, W] -> [N, C*b^2, H/b, W/b]; output channel (bi*b + bj)*C + c; a 6-d strided copy.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
template <typename Ctx>
Status check(const Ctx& ctx, const ir::Node& n, const Shape& in, int64_t* b) {
  *b = n.attr_int("blocksize", 0);
  if (in.size() != 4) return ctx.fail("input must be 4-d, got " + shape_to_string(in));
  if (*b <= 0) return ctx.fail("blocksize must be positive");
  if (in[2] % *b != 0 || in[3] % *b != 0)
    return ctx.fail("spatial dims of " + shape_to_string(in) + " are not multiples of blocksize " + std::to_string(*b));
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  int64_t b = 0;
  KW_RETURN_IF_ERROR(check(ctx, ctx.node(), in, &b));
  ctx.outputs[0] = {ctx.input(0).dtype, {in[0], in[1] * b * b, in[2] / b, in[3] / b}};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  int64_t b = 0;
  KW_RETURN_IF_ERROR(check(init, init.node, in, &b));
  const int64_t n = in[0], c = in[1], h = in[2], w = in[3];
  // Output as [n, bi, bj, c, h', w'] reading x[n, c, h'*b + bi, w'*b + bj].
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  job.params.shape = {n, b, b, c, h / b, w / b};
  job.params.src_strides = {c * h * w, w, 1, h * w, b * w, b};
  job.params.dst_strides = strides_of(job.params.shape);
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_SpaceToDepth = {"SpaceToDepth", "", infer, create};
}  // namespace kaiwu::ops
