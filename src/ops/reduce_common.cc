#include "ops/reduce_common.h"

#include <cstring>

#include "kernels/ref/cast.h"
#include "kernels/x86/reduce.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {

namespace {

namespace kr = kernels::ref;

struct ReducePlan {
  std::vector<bool> mask;  // per input dim: reduced
  bool noop = false;       // empty axes with noop_with_empty_axes: output = input
  Shape out_shape;
};

// Reads the axes (attribute or input 1) and computes the reduced-dims mask and output shape.
Status plan_reduce(const ir::Node& node, int64_t opset, int64_t axes_input_opset, const Shape& in,
                   const Tensor* axes_value, bool has_axes_input, ReducePlan* p) {
  std::vector<int64_t> axes;
  if (opset < axes_input_opset) {
    axes = node.attr_ints("axes");
  } else if (has_axes_input) {
    if (!axes_value) return invalid_argument(node.describe() + ": axes must be known at prepare time");
    if (axes_value->dtype() != DType::kI64 && axes_value->dtype() != DType::kI32)
      return invalid_argument(node.describe() + ": axes must be int64");
    axes = axes_value->to_i64_vector();
  }
  const int64_t rank = static_cast<int64_t>(in.size());
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  p->mask.assign(in.size(), false);
  if (axes.empty()) {
    if (opset >= axes_input_opset && node.attr_int("noop_with_empty_axes", 0) != 0) {
      p->noop = true;
      p->out_shape = in;
      return Status::Ok();
    }
    p->mask.assign(in.size(), true);
  }
  for (int64_t a : axes) {
    int64_t n;
    if (!normalize_axis(a, rank, &n))
      return invalid_argument(node.describe() + ": axis " + std::to_string(a) + " is out of range for rank " +
                              std::to_string(rank));
    p->mask[n] = true;
  }
  p->out_shape.clear();
  for (size_t d = 0; d < in.size(); ++d) {
    if (!p->mask[d])
      p->out_shape.push_back(in[d]);
    else if (keepdims)
      p->out_shape.push_back(1);
  }
  return Status::Ok();
}

bool supported(kr::ReduceKind k, DType dt) { return dtype_is_float(dt) || dtype_is_integer(dt); }

}  // namespace

Status infer_reduce(InferContext& ctx, kr::ReduceKind k, int64_t axes_input_opset) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Tensor* axes = nullptr;
  const bool has_axes = ctx.opset() >= axes_input_opset && ctx.has_input(1);
  if (has_axes) {
    axes = ctx.require_value(1);
    if (!axes) return ctx.value_needed();
  }
  ReducePlan p;
  KW_RETURN_IF_ERROR(plan_reduce(ctx.node(), ctx.opset(), axes_input_opset, ctx.input(0).shape, axes, has_axes, &p));
  ctx.outputs[0] = {ctx.input(0).dtype, p.out_shape};
  return Status::Ok();
}

Status create_reduce(const KernelInit& init, kr::ReduceKind k, int64_t axes_input_opset, std::unique_ptr<Kernel>* out) {
  const DType dt = init.inputs[0].dtype;
  if (!supported(k, dt)) return unsupported(init.node.describe() + ": dtype " + dtype_name(dt) + " is not supported");
  const bool has_axes = init.opset >= axes_input_opset && init.has_input(1);
  ReducePlan p;
  KW_RETURN_IF_ERROR(plan_reduce(init.node, init.opset, axes_input_opset, init.inputs[0].shape,
                                 has_axes ? init.values[1] : nullptr, has_axes, &p));
  const Shape in_shape = init.inputs[0].shape;
  const bool fast = !init.reference_only;
  *out = make_kernel(
      [k, dt, p, in_shape, fast](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        if (p.noop) {
          std::memcpy(o[0]->raw(), in[0]->raw(), in[0]->nbytes());
          return Status::Ok();
        }
        const void* x = in[0]->raw();
        void* y = o[0]->raw();
        Tensor xf, yf;  // f16 computes in f32
        const DType cdt = dt == DType::kF16 ? DType::kF32 : dt;
        if (dt == DType::kF16) {
          xf = Tensor::empty(DType::kF32, in_shape);
          kr::cast(dt, x, DType::kF32, xf.raw(), xf.numel());
          yf = Tensor::empty(DType::kF32, o[0]->shape());
          x = xf.raw();
          y = yf.raw();
        }
        bool done = fast && cdt == DType::kF32 &&
                    kernels::x86::reduce_f32(k, static_cast<const float*>(x), in_shape, p.mask, static_cast<float*>(y));
        if (!done && !kr::reduce(k, cdt, x, in_shape, p.mask, y)) return internal_error("reduce: unsupported dtype");
        if (dt == DType::kF16) kr::cast(DType::kF32, y, dt, o[0]->raw(), o[0]->numel());
        return Status::Ok();
      },
      fast ? "x86" : "ref");
  return Status::Ok();
}

}  // namespace kaiwu::ops
