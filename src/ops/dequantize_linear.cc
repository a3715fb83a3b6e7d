// DequantizeLinear (opsets 10, 13 per-axis, 19 f16 scales; com.microsoft version 1, the onnxruntime contrib op for
// 16-bit below opset 21): y = (x - zp) * scale, y of the scale's type.
#include "core/parallel.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/quantize.h"
#include "ops/qdq_common.h"

namespace kaiwu::ops {
namespace {

constexpr int64_t kGrain = 16384;

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs x and x_scale");
  const TensorDesc& x = ctx.input(0);
  const TensorDesc& s = ctx.input(1);
  const bool has_zp = ctx.has_input(2);
  if (s.dtype != DType::kF32 && s.dtype != DType::kF16)
    return ctx.fail(std::string("x_scale must be float or float16, got ") + dtype_name(s.dtype));
  if (!kernels::ref::dequantize_linear_supported(x.dtype, s.dtype))
    return ctx.fail(std::string("dequantizing ") + dtype_name(x.dtype) + " is not supported");
  if (has_zp && ctx.input(2).dtype != x.dtype)
    return ctx.fail(std::string("x_zero_point has type ") + dtype_name(ctx.input(2).dtype) + ", x has " +
                    dtype_name(x.dtype));
  int64_t channels, inner;
  std::string why = qdq_desc_layout(ctx.node(), x, s, has_zp ? &ctx.input(2) : nullptr, &channels, &inner);
  if (!why.empty()) return ctx.fail(why);
  ctx.outputs[0] = {s.dtype, x.shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype;
  int64_t channels, inner;
  std::string why = qdq_desc_layout(init.node, init.inputs[0], init.inputs[1],
                                    init.has_input(2) ? &init.inputs[2] : nullptr, &channels, &inner);
  if (!why.empty()) return init.fail(why);
  const bool fast = !init.reference_only && kernels::x86::dequantize_linear_supported(xt, yt);
  const std::string name = init.node.describe();
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        QdqRunParams r(in, channels, inner);
        kernels::ref::QuantizeLinearParams& p = r.p;
        if (xt == DType::kI32)
          for (int32_t z : r.zero_points)
            if (z != 0) return invalid_argument(name + ": an int32 input needs a zero point of 0");
        const void* x = in[0]->raw();
        void* y = o[0]->raw();
        parallel_for(in[0]->numel(), kGrain, [&](int64_t b, int64_t e) {
          if (fast) kernels::x86::dequantize_linear(xt, x, yt, y, p, b, e);
          else kernels::ref::dequantize_linear(xt, x, yt, y, p, b, e);
        });
        return Status::Ok();
      },
      fast ? "x86" : "ref");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_DequantizeLinear = {"DequantizeLinear", "", infer, create};
// onnxruntime contrib op (com.microsoft, version 1): same semantics (the IR importer maps it to the default
// domain; this entry serves IR built in code).
extern const OpDef kOp_MsDequantizeLinear = {"DequantizeLinear", "com.microsoft", infer, create};
}  // namespace kaiwu::ops
