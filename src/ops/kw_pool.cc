// kaiwu.MaxPool / kaiwu.AveragePool / kaiwu.GlobalAveragePool / kaiwu.GlobalMaxPool: the ONNX pools (f32, one
// output; the max pools also int8 / uint8) with a `layout` attribute (NCHW | NHWC), produced by the layout pass.
#include <type_traits>

#include "kernels/x86/pool.h"
#include "ops/conv_geometry.h"
#include "ops/pool_common.h"

namespace kaiwu::ops {
namespace {

bool is_nhwc(const ir::Node& n) { return node_layout(n) == kernels::ActLayout::kNHWC; }
Shape logical(const ir::Node& n, const Shape& s) { return is_nhwc(n) ? nhwc_to_nchw(s) : s; }
Shape physical(const ir::Node& n, const Shape& s) { return is_nhwc(n) ? nchw_to_nhwc(s) : s; }

Status check_f32(const ir::Node& n, DType t) {
  return t == DType::kF32 ? Status::Ok() : invalid_argument(n.describe() + ": only f32 is supported");
}

Status window_params(const ir::Node& n, const Shape& x, kernels::PoolParams* p) {
  KW_RETURN_IF_ERROR(pool_params(n, logical(n, x), p));
  p->layout = node_layout(n);
  return Status::Ok();
}

// MaxPool / GlobalMaxPool also take int8 / uint8.
Status check_max_type(const ir::Node& n, DType t) {
  return t == DType::kF32 || t == DType::kI8 || t == DType::kU8
             ? Status::Ok()
             : invalid_argument(n.describe() + ": only f32, int8 and uint8 are supported, got " + dtype_name(t));
}

template <bool kMax>
Status infer_window(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType t = ctx.input(0).dtype;
  KW_RETURN_IF_ERROR(kMax ? check_max_type(ctx.node(), t) : check_f32(ctx.node(), t));
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(window_params(ctx.node(), ctx.input(0).shape, &p));
  ctx.outputs[0] = {t, physical(ctx.node(), pool_output_shape(p))};
  return Status::Ok();
}

// Max pooling for T (f32, int8, uint8): the optimized 1-D / 2-D kernel, else the reference.
template <typename T>
bool fast_max_pool(const kernels::PoolParams& p, const T* x, T* y) {
  if constexpr (std::is_same_v<T, float>) return kernels::x86::max_pool_f32(p, x, y);
  else if constexpr (std::is_same_v<T, int8_t>) return kernels::x86::max_pool_i8(p, x, y);
  else return kernels::x86::max_pool_u8(p, x, y);
}

template <typename T>
std::unique_ptr<Kernel> max_kernel(const kernels::PoolParams& p, bool ref) {
  return make_kernel(
      [p, ref](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        if (ref || !fast_max_pool<T>(p, in[0]->data<T>(), o[0]->data<T>()))
          kernels::ref::max_pool<T>(p, in[0]->data<T>(), o[0]->data<T>(), nullptr, false);
        return Status::Ok();
      },
      ref ? "ref" : "x86");
}

Status create_max(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(window_params(init.node, init.inputs[0].shape, &p));
  KW_RETURN_IF_ERROR(check_max_type(init.node, init.inputs[0].dtype));
  const bool ref = init.reference_only;
  switch (init.inputs[0].dtype) {
    case DType::kI8: *out = max_kernel<int8_t>(p, ref); break;
    case DType::kU8: *out = max_kernel<uint8_t>(p, ref); break;
    default: *out = max_kernel<float>(p, ref); break;
  }
  return Status::Ok();
}

Status create_avg(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::PoolParams p;
  KW_RETURN_IF_ERROR(window_params(init.node, init.inputs[0].shape, &p));
  const bool ref = init.reference_only;
  *out = make_kernel(
      [p, ref](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        if (ref || !kernels::x86::avg_pool_f32(p, in[0]->data<float>(), o[0]->data<float>()))
          kernels::ref::avg_pool_f32(p, in[0]->data<float>(), o[0]->data<float>());
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

template <bool kMax>
Status infer_global(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType t = ctx.input(0).dtype;
  KW_RETURN_IF_ERROR(kMax ? check_max_type(ctx.node(), t) : check_f32(ctx.node(), t));
  const Shape& x = ctx.input(0).shape;
  if (x.size() < 3) return ctx.fail("X must have rank >= 3");
  Shape y = logical(ctx.node(), x);
  for (size_t i = 2; i < y.size(); ++i) y[i] = 1;
  ctx.outputs[0] = {t, physical(ctx.node(), y)};
  return Status::Ok();
}

template <bool kMax>
Status create_global(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  int64_t n, c, spatial;
  global_pool_dims(logical(init.node, init.inputs[0].shape), &n, &c, &spatial);
  const kernels::ActLayout layout = node_layout(init.node);
  const bool ref = init.reference_only;
  const DType t = init.inputs[0].dtype;
  if (kMax && (t == DType::kI8 || t == DType::kU8)) {  // int8 / uint8 global max: reference kernel
    *out = make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
      if (t == DType::kI8)
        kernels::ref::global_max_pool<int8_t>(n, c, spatial, layout, in[0]->data<int8_t>(), o[0]->data<int8_t>());
      else
        kernels::ref::global_max_pool<uint8_t>(n, c, spatial, layout, in[0]->data<uint8_t>(), o[0]->data<uint8_t>());
      return Status::Ok();
    });
    return Status::Ok();
  }
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const float* x = in[0]->data<float>();
        float* y = o[0]->data<float>();
        if (kMax) {
          if (ref) kernels::ref::global_max_pool<float>(n, c, spatial, layout, x, y);
          else kernels::x86::global_max_pool_f32(n, c, spatial, layout, x, y);
        } else {
          if (ref) kernels::ref::global_avg_pool_f32(n, c, spatial, layout, x, y);
          else kernels::x86::global_avg_pool_f32(n, c, spatial, layout, x, y);
        }
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwMaxPool = {"MaxPool", "kaiwu", infer_window<true>, create_max};
extern const OpDef kOp_KwAveragePool = {"AveragePool", "kaiwu", infer_window<false>, create_avg};
extern const OpDef kOp_KwGlobalAveragePool = {"GlobalAveragePool", "kaiwu", infer_global<false>,
                                              create_global<false>};
extern const OpDef kOp_KwGlobalMaxPool = {"GlobalMaxPool", "kaiwu", infer_global<true>, create_global<true>};
}  // namespace kaiwu::ops
