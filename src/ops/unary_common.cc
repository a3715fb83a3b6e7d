#include "ops/unary_common.h"

#include "core/parallel.h"
#include "kernels/x86/unary.h"

namespace kaiwu::ops {

namespace {
constexpr int64_t kUnaryGrain = 16384;  // elements per parallel chunk
}

Status infer_same_as_input(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  ctx.outputs[0] = ctx.input(0);
  return Status::Ok();
}

Status create_unary(const KernelInit& init, kernels::ref::UnaryParams p, std::unique_ptr<Kernel>* out) {
  namespace kr = kernels::ref;
  if (!init.has_input(0)) return init.fail("missing input");
  const DType dt = init.inputs[0].dtype;
  if (!kr::unary_supports(p.kind, dt))
    return unsupported(init.node.describe() + ": dtype " + dtype_name(dt) + " is not supported");
  if (dt == DType::kF32) {
    if (init.reference_only) {
      *out = make_kernel([p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const float* x = in[0]->data<float>();
        float* y = o[0]->data<float>();
        parallel_for(in[0]->numel(), kUnaryGrain, [&](int64_t b, int64_t e) { kr::unary_f32(x + b, y + b, e - b, p); });
        return Status::Ok();
      });
    } else {
      *out = make_kernel(
          [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
            const float* x = in[0]->data<float>();
            float* y = o[0]->data<float>();
            parallel_for(in[0]->numel(), kUnaryGrain,
                         [&](int64_t b, int64_t e) { kernels::x86::unary_f32(x + b, y + b, e - b, p); });
            return Status::Ok();
          },
          kernels::x86::unary_f32_impl(p.kind));
    }
    return Status::Ok();
  }
  const size_t es = dtype_size(dt);
  *out = make_kernel([p, dt, es](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    const uint8_t* x = static_cast<const uint8_t*>(in[0]->raw());
    uint8_t* y = static_cast<uint8_t*>(o[0]->raw());
    parallel_for(in[0]->numel(), kUnaryGrain,
                 [&](int64_t b, int64_t e) { kr::unary_any(dt, x + b * es, y + b * es, e - b, p); });
    return Status::Ok();
  });
  return Status::Ok();
}

Status create_unary_f32(const KernelInit& init, kernels::ref::UnaryParams p, std::unique_ptr<Kernel>* out) {
  if (!init.has_input(0) || init.inputs[0].dtype != DType::kF32)
    return unsupported(init.node.describe() + ": only f32 is supported");
  return create_unary(init, p, out);
}

}  // namespace kaiwu::ops
