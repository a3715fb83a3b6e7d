// Tile: repeats the input `repeats[d]` times along every dim d. Run as a broadcast copy over the interleaved
// shape [r0, d0, r1, d1, ...] (source strides 0 on the repeat dims), which is the output's memory order.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
template <typename Ctx>
Status get_repeats(Ctx& ctx, size_t rank, std::vector<int64_t>* reps) {
  bool present = false;
  KW_RETURN_IF_ERROR(read_int_input(ctx, 1, "repeats", reps, &present));
  if (!present) return ctx.fail("missing input 'repeats'");
  if (reps->size() != rank)
    return ctx.fail("repeats has " + std::to_string(reps->size()) + " values for an input of rank " + std::to_string(rank));
  for (int64_t r : *reps)
    if (r < 0) return ctx.fail("repeats " + shape_to_string(*reps) + " has a negative value");
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  std::vector<int64_t> reps;
  KW_RETURN_IF_ERROR(get_repeats(ctx, in.size(), &reps));
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] * reps[i];
  ctx.outputs[0] = {ctx.input(0).dtype, out};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  std::vector<int64_t> reps;
  KW_RETURN_IF_ERROR(get_repeats(init, in.size(), &reps));
  const std::vector<int64_t> in_strides = strides_of(in);
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  for (size_t i = 0; i < in.size(); ++i) {
    job.params.shape.push_back(reps[i]);
    job.params.src_strides.push_back(0);
    job.params.shape.push_back(in[i]);
    job.params.src_strides.push_back(in_strides[i]);
  }
  job.params.dst_strides = strides_of(job.params.shape);
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Tile = {"Tile", "", infer, create};
}  // namespace kaiwu::ops
