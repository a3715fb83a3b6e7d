// Gather: selects entries along `axis` by int32/int64 indices of any shape (negative indices count from the end);
// output shape = data[:axis] + indices.shape + data[axis+1:]. Any data dtype.
#include <algorithm>

#include "core/parallel.h"
#include "kernels/ref/gather.h"
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs 'data' and 'indices'");
  const Shape& d = ctx.input(0).shape;
  const DType it = ctx.input(1).dtype;
  if (it != DType::kI64 && it != DType::kI32) return ctx.fail("indices must be int32 or int64, got " + std::string(dtype_name(it)));
  int64_t axis;
  if (!normalize_axis(ctx.node().attr_int("axis", 0), static_cast<int64_t>(d.size()), &axis))
    return ctx.fail("axis " + std::to_string(ctx.node().attr_int("axis", 0)) + " is out of range for data of shape " + shape_to_string(d));
  Shape out(d.begin(), d.begin() + axis);
  out.insert(out.end(), ctx.input(1).shape.begin(), ctx.input(1).shape.end());
  out.insert(out.end(), d.begin() + axis + 1, d.end());
  ctx.outputs[0] = {ctx.input(0).dtype, out};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& d = init.inputs[0].shape;
  int64_t axis;
  if (!normalize_axis(init.node.attr_int("axis", 0), static_cast<int64_t>(d.size()), &axis)) return init.fail("bad axis");
  kernels::ref::GatherParams p;
  p.outer = shape_numel(Shape(d.begin(), d.begin() + axis));
  p.axis_dim = d[axis];
  p.num_indices = shape_numel(init.inputs[1].shape);
  p.inner_bytes = shape_numel(Shape(d.begin() + axis + 1, d.end())) * static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  const bool idx64 = init.inputs[1].dtype == DType::kI64, ref_only = init.reference_only;
  const std::string name = init.node.describe();
  *out = make_kernel(
      [p, idx64, ref_only, name](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const int64_t rows = p.outer * p.num_indices;
        if (rows == 0 || p.inner_bytes == 0) return Status::Ok();
        const void* idx = in[1]->raw();
        const int64_t bad = idx64 ? kernels::ref::gather_find_bad_index(static_cast<const int64_t*>(idx), p.num_indices, p.axis_dim)
                                  : kernels::ref::gather_find_bad_index(static_cast<const int32_t*>(idx), p.num_indices, p.axis_dim);
        if (bad >= 0)
          return invalid_argument(name + ": index " + std::to_string(in[1]->get_i64(bad)) + " is out of range for a dim of " +
                                  std::to_string(p.axis_dim));
        auto body = [&](int64_t b, int64_t e) {
          if (idx64) kernels::ref::gather_rows(in[0]->raw(), static_cast<const int64_t*>(idx), o[0]->raw(), p, b, e);
          else kernels::ref::gather_rows(in[0]->raw(), static_cast<const int32_t*>(idx), o[0]->raw(), p, b, e);
        };
        if (ref_only) body(0, rows);
        else parallel_for(rows, std::max<int64_t>(1, (64 << 10) / p.inner_bytes), body);
        return Status::Ok();
      },
      ref_only ? "ref" : "x86");
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Gather = {"Gather", "", infer, create};
}  // namespace kaiwu::ops
