// QuantizeLinear (opsets 10, 13 per-axis, 19 f16/int32 inputs and saturate; com.microsoft version 1, the
// onnxruntime contrib op for 16-bit below opset 21): y = saturate(round(x / scale) + zp).
#include "core/parallel.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/quantize.h"
#include "ops/qdq_common.h"

namespace kaiwu::ops {
namespace {

constexpr int64_t kGrain = 16384;

DType output_type(const ir::Node& n, const std::vector<TensorDesc>& in, bool has_zp) {
  if (has_zp) return in[2].dtype;
  if (n.has_attr("output_dtype") && n.attr_int("output_dtype", 0) != 0) {
    switch (n.attr_int("output_dtype", 0)) {
      case 2: return DType::kU8;
      case 3: return DType::kI8;
      case 4: return DType::kU16;
      case 5: return DType::kI16;
      default: return DType::kUndefined;
    }
  }
  return DType::kU8;
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs x and y_scale");
  const TensorDesc& x = ctx.input(0);
  const TensorDesc& s = ctx.input(1);
  const bool has_zp = ctx.has_input(2);
  std::vector<TensorDesc> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) ins.push_back(ctx.input(i));
  DType yt = output_type(ctx.node(), ins, has_zp);
  if (!kernels::ref::quantize_linear_supported(x.dtype, yt))
    return ctx.fail(std::string("quantizing ") + dtype_name(x.dtype) + " to " + dtype_name(yt) + " is not supported");
  if (s.dtype != DType::kF32 && s.dtype != DType::kF16)
    return ctx.fail(std::string("y_scale must be float or float16, got ") + dtype_name(s.dtype));
  int64_t channels, inner;
  std::string why = qdq_desc_layout(ctx.node(), x, s, has_zp ? &ctx.input(2) : nullptr, &channels, &inner);
  if (!why.empty()) return ctx.fail(why);
  ctx.outputs[0] = {yt, x.shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype, st = init.inputs[1].dtype;
  int64_t channels, inner;
  std::string why = qdq_desc_layout(init.node, init.inputs[0], init.inputs[1],
                                    init.has_input(2) ? &init.inputs[2] : nullptr, &channels, &inner);
  if (!why.empty()) return init.fail(why);
  const bool fast = !init.reference_only && kernels::x86::quantize_linear_supported(xt, yt);
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        QdqRunParams r(in, channels, inner);
        kernels::ref::QuantizeLinearParams& p = r.p;
        p.scale_is_f16 = st == DType::kF16;
        const void* x = in[0]->raw();
        void* y = o[0]->raw();
        parallel_for(in[0]->numel(), kGrain, [&](int64_t b, int64_t e) {
          if (fast) kernels::x86::quantize_linear(xt, x, yt, y, p, b, e);
          else kernels::ref::quantize_linear(xt, x, yt, y, p, b, e);
        });
        return Status::Ok();
      },
      fast ? "x86" : "ref");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_QuantizeLinear = {"QuantizeLinear", "", infer, create};
// onnxruntime contrib op (com.microsoft, version 1): same semantics (the IR importer maps it to the default
// domain; this entry serves IR built in code).
extern const OpDef kOp_MsQuantizeLinear = {"QuantizeLinear", "com.microsoft", infer, create};
}  // namespace kaiwu::ops
