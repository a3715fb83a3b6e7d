// ArgMax: int64 index of the largest element along `axis` (default 0), keepdims (default 1), select_last_index
// (default 0: first of equal maxima).
#include <algorithm>

#include "core/parallel.h"
#include "kernels/ref/cast.h"
#include "kernels/ref/reduce.h"
#include "ops/op_def.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {
namespace {

struct ArgMaxPlan {
  int64_t outer = 1, n = 1, inner = 1;
  Shape out_shape;
};

Status plan(const ir::Node& node, const Shape& in, ArgMaxPlan* p) {
  int64_t axis;
  const int64_t a = node.attr_int("axis", 0);
  if (!normalize_axis(a, static_cast<int64_t>(in.size()), &axis))
    return invalid_argument(node.describe() + ": axis " + std::to_string(a) + " is out of range for shape " +
                            shape_to_string(in));
  if (in[axis] == 0) return invalid_argument(node.describe() + ": cannot take ArgMax over an empty axis");
  const bool keep = node.attr_int("keepdims", 1) != 0;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    if (d < axis)
      p->outer *= in[d];
    else if (d > axis)
      p->inner *= in[d];
    if (d != axis)
      p->out_shape.push_back(in[d]);
    else if (keep)
      p->out_shape.push_back(1);
  }
  p->n = in[axis];
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  ArgMaxPlan p;
  KW_RETURN_IF_ERROR(plan(ctx.node(), ctx.input(0).shape, &p));
  ctx.outputs[0] = {DType::kI64, p.out_shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const DType dt = init.inputs[0].dtype;
  if (!dtype_is_float(dt) && !dtype_is_integer(dt))
    return unsupported(init.node.describe() + ": dtype " + dtype_name(dt) + " is not supported");
  ArgMaxPlan p;
  KW_RETURN_IF_ERROR(plan(init.node, init.inputs[0].shape, &p));
  const bool last = init.node.attr_int("select_last_index", 0) != 0;
  *out = make_kernel([p, dt, last](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    const uint8_t* x = static_cast<const uint8_t*>(in[0]->raw());
    Tensor xf;
    DType cdt = dt;
    if (dt == DType::kF16) {  // exact in f32
      xf = Tensor::empty(DType::kF32, in[0]->shape());
      kernels::ref::cast(dt, x, DType::kF32, xf.raw(), xf.numel());
      x = static_cast<const uint8_t*>(xf.raw());
      cdt = DType::kF32;
    }
    const size_t es = dtype_size(cdt);
    int64_t* y = o[0]->data<int64_t>();
    const int64_t grain = std::max<int64_t>(1, 16384 / (p.n * p.inner));
    parallel_for(p.outer, grain, [&](int64_t b, int64_t e) {
      kernels::ref::arg_max(cdt, x + b * p.n * p.inner * es, e - b, p.n, p.inner, last, y + b * p.inner);
    });
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_ArgMax = {"ArgMax", "", infer, create};
}  // namespace kaiwu::ops
