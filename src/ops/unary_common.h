// Shared inference and kernel creation for elementwise unary float ops (output = input's type and shape).
#pragma once
#include "core/parallel.h"
#include "kernels/ref/unary.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

inline Status infer_same_as_input(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  ctx.outputs[0] = ctx.input(0);
  return Status::Ok();
}

// A float unary kernel: splits the elements in fixed chunks over threads (deterministic) and calls the reference.
inline Status create_unary_f32(const KernelInit& init, kernels::ref::UnaryParams p, std::unique_ptr<Kernel>* out) {
  if (init.inputs[0].dtype != DType::kF32)
    return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[0].dtype) + " is not supported");
  *out = make_kernel([p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    const float* x = in[0]->data<float>();
    float* y = o[0]->data<float>();
    parallel_for(in[0]->numel(), 16384, [&](int64_t b, int64_t e) { kernels::ref::unary_f32(x + b, y + b, e - b, p); });
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace kaiwu::ops
