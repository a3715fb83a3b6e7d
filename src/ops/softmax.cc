// Softmax: before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalized over the second
// dimension; from opset 13 it is normalized along `axis` (default -1).
#include "kernels/ref/softmax.h"

#include <algorithm>

#include "core/parallel.h"
#include "kernels/ref/cast.h"
#include "kernels/x86/softmax.h"
#include "ops/op_def.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {
namespace {

struct Geometry {
  int64_t outer = 1, n = 1, inner = 1;
};

Status geometry(const ir::Node& node, int64_t opset, const Shape& s, Geometry* g) {
  const int64_t rank = static_cast<int64_t>(s.size());
  const int64_t a = node.attr_int("axis", opset < 13 ? 1 : -1);
  int64_t axis;
  if (rank == 0) {
    if (a != 0 && a != -1) return invalid_argument(node.describe() + ": axis out of range for a scalar");
    return Status::Ok();  // a scalar: softmax is 1
  }
  if (opset < 13 && a == rank) {
    axis = rank;  // allowed by the 2-D coercion: everything goes to the outer dimension
  } else if (!normalize_axis(a, rank, &axis)) {
    return invalid_argument(node.describe() + ": axis " + std::to_string(a) + " is out of range for shape " +
                            shape_to_string(s));
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis)
      g->outer *= s[d];
    else if (opset < 13 || d == axis)
      g->n *= s[d];
    else
      g->inner *= s[d];
  }
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  if (!dtype_is_float(ctx.input(0).dtype)) return ctx.fail("input must be a float tensor");
  Geometry g;
  KW_RETURN_IF_ERROR(geometry(ctx.node(), ctx.opset(), ctx.input(0).shape, &g));
  ctx.outputs[0] = ctx.input(0);
  return Status::Ok();
}

// Runs the f32 softmax, parallel over rows (last axis) or over (outer, column chunks) (inner axis).
void run_f32(const float* x, float* y, const Geometry& g, bool reference) {
  if (g.n == 0) return;
  if (reference) {
    const int64_t grain = std::max<int64_t>(1, 16384 / (g.n * g.inner));
    parallel_for(g.outer, grain, [&](int64_t b, int64_t e) {
      kernels::ref::softmax_f32(x + b * g.n * g.inner, y + b * g.n * g.inner, e - b, g.n, g.inner);
    });
  } else if (g.inner == 1) {
    const int64_t grain = std::max<int64_t>(1, 16384 / g.n);
    parallel_for(g.outer, grain,
                 [&](int64_t b, int64_t e) { kernels::x86::softmax_rows_f32(x + b * g.n, y + b * g.n, e - b, g.n); });
  } else {
    constexpr int64_t kCols = 256;
    const int64_t chunks = (g.inner + kCols - 1) / kCols;
    const int64_t grain = std::max<int64_t>(1, 16384 / (g.n * std::min(g.inner, kCols)));
    parallel_for(g.outer * chunks, grain, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t o = t / chunks, c0 = (t % chunks) * kCols, c1 = std::min(g.inner, c0 + kCols);
        kernels::x86::softmax_cols_f32(x + o * g.n * g.inner, y + o * g.n * g.inner, g.n, g.inner, c0, c1);
      }
    });
  }
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const DType dt = init.inputs[0].dtype;
  if (!dtype_is_float(dt)) return unsupported(init.node.describe() + ": dtype " + dtype_name(dt) + " is not supported");
  Geometry g;
  KW_RETURN_IF_ERROR(geometry(init.node, init.opset, init.inputs[0].shape, &g));
  const bool reference = init.reference_only;
  *out = make_kernel(
      [g, dt, reference](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        if (dt == DType::kF32) {
          run_f32(in[0]->data<float>(), o[0]->data<float>(), g, reference);
        } else if (dt == DType::kF64) {
          kernels::ref::softmax_f64(in[0]->data<double>(), o[0]->data<double>(), g.outer, g.n, g.inner);
        } else {  // f16 through f32
          Tensor t = Tensor::empty(DType::kF32, in[0]->shape());
          kernels::ref::cast(dt, in[0]->raw(), DType::kF32, t.raw(), t.numel());
          run_f32(t.data<float>(), t.data<float>(), g, reference);
          kernels::ref::cast(DType::kF32, t.raw(), dt, o[0]->raw(), t.numel());
        }
        return Status::Ok();
      },
      reference ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_Softmax = {"Softmax", "", infer, create};
}  // namespace kaiwu::ops
