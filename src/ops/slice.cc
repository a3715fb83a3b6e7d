// Slice: starts/ends/axes as attributes (before opset 10) or starts/ends/axes/steps inputs (10+). Negative
// starts/ends count from the end, out-of-range values are clamped, negative steps walk backwards.
#include <algorithm>
#include <climits>

#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
struct SliceDims {
  std::vector<int64_t> start, step, count;  // per input dim
};

// Computes the slice per dim of `in` for the node (shared by inference and kernel creation).
template <typename Ctx>
Status compute(Ctx& ctx, const ir::Node& n, int64_t opset, const Shape& in, SliceDims* out) {
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false, has_steps = false, present = false;
  if (opset >= 10) {
    KW_RETURN_IF_ERROR(read_int_input(ctx, 1, "starts", &starts, &present));
    if (!present) return ctx.fail("missing input 'starts'");
    KW_RETURN_IF_ERROR(read_int_input(ctx, 2, "ends", &ends, &present));
    if (!present) return ctx.fail("missing input 'ends'");
    KW_RETURN_IF_ERROR(read_int_input(ctx, 3, "axes", &axes, &has_axes));
    KW_RETURN_IF_ERROR(read_int_input(ctx, 4, "steps", &steps, &has_steps));
  } else {
    if (!n.has_attr("starts") || !n.has_attr("ends")) return ctx.fail("missing attribute 'starts' or 'ends'");
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    has_axes = n.has_attr("axes");
    axes = n.attr_ints("axes");
  }
  const int64_t rank = static_cast<int64_t>(in.size()), k = static_cast<int64_t>(starts.size());
  if (static_cast<int64_t>(ends.size()) != k) return ctx.fail("starts and ends have different lengths");
  if (!has_axes) {
    axes.resize(k);
    for (int64_t i = 0; i < k; ++i) axes[i] = i;
  }
  if (!has_steps) steps.assign(k, 1);
  if (static_cast<int64_t>(axes.size()) != k || static_cast<int64_t>(steps.size()) != k)
    return ctx.fail("starts, ends, axes and steps must have the same length");
  KW_RETURN_IF_ERROR(normalize_axes(ctx, &axes, rank));
  out->start.assign(rank, 0);
  out->step.assign(rank, 1);
  out->count = in;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t a = axes[i], dim = in[a];
    int64_t st = steps[i], s = starts[i], e = ends[i];
    if (st == 0) return ctx.fail("steps must not be 0");
    if (st == INT64_MIN) st = -INT64_MAX;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t cnt = 0;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > s) cnt = (e - s - 1) / st + 1;
    } else if (dim > 0) {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      if (s > e) cnt = (s - e - 1) / (-st) + 1;
    }
    out->start[a] = cnt > 0 ? s : 0;
    out->step[a] = cnt > 1 ? st : 1;
    out->count[a] = cnt;
  }
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  SliceDims d;
  KW_RETURN_IF_ERROR(compute(ctx, ctx.node(), ctx.opset(), ctx.input(0).shape, &d));
  ctx.outputs[0] = {ctx.input(0).dtype, d.count};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  SliceDims d;
  KW_RETURN_IF_ERROR(compute(init, init.node, init.opset, in, &d));
  const std::vector<int64_t> in_strides = strides_of(in);
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  job.params.shape = d.count;
  job.params.dst_strides = strides_of(d.count);
  for (size_t a = 0; a < in.size(); ++a) {
    job.src_offset += d.start[a] * in_strides[a] * job.params.elem_size;
    job.params.src_strides.push_back(in_strides[a] * d.step[a]);
  }
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Slice = {"Slice", "", infer, create};
}  // namespace kaiwu::ops
