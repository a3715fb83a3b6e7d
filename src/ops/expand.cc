// Expand: broadcasts the input to the numpy-broadcast of its shape and the `shape` input, as a strided copy.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
template <typename Ctx>
Status out_shape(Ctx& ctx, const Shape& in, Shape* out) {
  std::vector<int64_t> target;
  bool present = false;
  KW_RETURN_IF_ERROR(read_int_input(ctx, 1, "shape", &target, &present));
  if (!present) return ctx.fail("missing input 'shape'");
  for (int64_t d : target)
    if (d < 0) return ctx.fail("shape " + shape_to_string(target) + " has a negative dim");
  if (!broadcast_shapes(in, target, out))
    return ctx.fail("cannot broadcast " + shape_to_string(in) + " to " + shape_to_string(target));
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  Shape out;
  KW_RETURN_IF_ERROR(out_shape(ctx, ctx.input(0).shape, &out));
  ctx.outputs[0] = {ctx.input(0).dtype, out};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& os = init.outputs[0].shape;
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  job.params.shape = os;
  job.params.src_strides = broadcast_strides(init.inputs[0].shape, os);
  job.params.dst_strides = strides_of(os);
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Expand = {"Expand", "", infer, create};
}  // namespace kaiwu::ops
