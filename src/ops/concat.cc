// Concat: joins inputs of equal dtype and rank along `axis` (negative counts from the end); any dtype.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.fail("needs at least one input");
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  const TensorDesc& first = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  if (rank == 0) return ctx.fail("cannot concatenate scalars");
  if (!ctx.node().has_attr("axis") && ctx.opset() >= 4) return ctx.fail("missing attribute 'axis'");
  int64_t axis;
  if (!normalize_axis(ctx.node().attr_int("axis", 1), rank, &axis))
    return ctx.fail("axis " + std::to_string(ctx.node().attr_int("axis", 1)) + " is out of range for rank " + std::to_string(rank));
  Shape out = first.shape;
  out[axis] = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const TensorDesc& d = ctx.input(i);
    if (d.dtype != first.dtype)
      return ctx.fail("input " + std::to_string(i) + " has dtype " + dtype_name(d.dtype) + ", input 0 has " + dtype_name(first.dtype));
    bool ok = static_cast<int64_t>(d.shape.size()) == rank;
    for (int64_t k = 0; ok && k < rank; ++k) ok = k == axis || d.shape[k] == first.shape[k];
    if (!ok)
      return ctx.fail("input " + std::to_string(i) + " has shape " + shape_to_string(d.shape) + ", incompatible with " +
                      shape_to_string(first.shape) + " along axis " + std::to_string(axis));
    out[axis] += d.shape[axis];
  }
  ctx.outputs[0] = {first.dtype, out};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& os = init.outputs[0].shape;
  const int64_t rank = static_cast<int64_t>(os.size());
  int64_t axis;
  if (!normalize_axis(init.node.attr_int("axis", 1), rank, &axis)) return init.fail("bad axis");
  const int64_t es = static_cast<int64_t>(dtype_size(init.outputs[0].dtype));
  const std::vector<int64_t> out_strides = strides_of(os);
  std::vector<CopyJob> jobs;
  int64_t offset = 0;  // along the axis
  for (size_t i = 0; i < init.inputs.size(); ++i) {
    const Shape& s = init.inputs[i].shape;
    CopyJob job;
    job.in = static_cast<int>(i);
    job.dst_offset = offset * out_strides[axis] * es;
    job.params.elem_size = es;
    job.params.shape = s;
    job.params.src_strides = strides_of(s);
    job.params.dst_strides = out_strides;
    offset += s[axis];
    if (shape_numel(s) > 0) jobs.push_back(std::move(job));
  }
  *out = make_copy_jobs_kernel(init, std::move(jobs));
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Concat = {"Concat", "", infer, create};
}  // namespace kaiwu::ops
