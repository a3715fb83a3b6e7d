// Split: cuts the input along `axis` into the node's outputs. Sizes come from the `split` attribute (before opset
// 13) or input (13+); otherwise equal parts (opset 18: num_outputs parts of ceil(dim / n), the last smaller).
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  const int64_t rank = static_cast<int64_t>(in.size()), n_out = static_cast<int64_t>(ctx.outputs.size());
  int64_t axis;
  if (!normalize_axis(ctx.node().attr_int("axis", 0), rank, &axis))
    return ctx.fail("axis " + std::to_string(ctx.node().attr_int("axis", 0)) + " is out of range for rank " + std::to_string(rank));
  const int64_t dim = in[axis];
  std::vector<int64_t> sizes;
  if (ctx.has_input(1)) {
    const Tensor* v = ctx.require_value(1);
    if (!v) return ctx.value_needed();
    KW_RETURN_IF_ERROR(read_int_list(ctx, *v, "split", &sizes));
  } else if (ctx.node().has_attr("split")) {
    sizes = ctx.node().attr_ints("split");
  }
  if (sizes.empty()) {
    int64_t parts = n_out;
    if (ctx.opset() >= 18 && ctx.node().has_attr("num_outputs")) {
      parts = ctx.node().attr_int("num_outputs", n_out);
      if (parts != n_out)
        return ctx.fail("num_outputs is " + std::to_string(parts) + " but the node has " + std::to_string(n_out) + " outputs");
    }
    if (parts <= 0) return ctx.fail("needs at least one output");
    if (ctx.opset() >= 18) {
      const int64_t chunk = (dim + parts - 1) / parts;
      sizes.assign(parts, chunk);
      sizes.back() = dim - chunk * (parts - 1);
      if (sizes.back() < 0)
        return ctx.fail("cannot split a dim of " + std::to_string(dim) + " into " + std::to_string(parts) + " parts");
    } else {
      if (dim % parts != 0)
        return ctx.fail("cannot split a dim of " + std::to_string(dim) + " into " + std::to_string(parts) + " equal parts");
      sizes.assign(parts, dim / parts);
    }
  }
  if (static_cast<int64_t>(sizes.size()) != n_out)
    return ctx.fail("split has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(n_out) + " outputs");
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) return ctx.fail("split sizes " + shape_to_string(sizes) + " have a negative size");
    sum += s;
  }
  if (sum != dim)
    return ctx.fail("split sizes " + shape_to_string(sizes) + " do not add up to the dim " + std::to_string(dim));
  for (int64_t o = 0; o < n_out; ++o) {
    Shape s = in;
    s[axis] = sizes[o];
    ctx.outputs[o] = {ctx.input(0).dtype, s};
  }
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  int64_t axis;
  if (!normalize_axis(init.node.attr_int("axis", 0), static_cast<int64_t>(in.size()), &axis)) return init.fail("bad axis");
  const int64_t es = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  const std::vector<int64_t> in_strides = strides_of(in);
  std::vector<CopyJob> jobs;
  int64_t offset = 0;
  for (size_t o = 0; o < init.outputs.size(); ++o) {
    const Shape& s = init.outputs[o].shape;
    CopyJob job;
    job.out = static_cast<int>(o);
    job.src_offset = offset * in_strides[axis] * es;
    job.params.elem_size = es;
    job.params.shape = s;
    job.params.src_strides = in_strides;
    job.params.dst_strides = strides_of(s);
    offset += s[axis];
    if (shape_numel(s) > 0) jobs.push_back(std::move(job));
  }
  *out = make_copy_jobs_kernel(init, std::move(jobs));
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Split = {"Split", "", infer, create};
}  // namespace kaiwu::ops
