// GlobalAveragePool: y[n, c, 1...] = mean of x[n, c, ...] (ONNX opsets 1..19).
#include "kernels/x86/pool.h"
#include "ops/pool_common.h"

namespace kaiwu::ops {
namespace {

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  if (init.inputs[0].dtype != DType::kF32)
    return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[0].dtype) + " is not supported");
  int64_t n, c, s;
  global_pool_dims(init.inputs[0].shape, &n, &c, &s);
  const bool ref = init.reference_only;
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const auto l = kernels::ActLayout::kNCHW;
        if (ref) kernels::ref::global_avg_pool_f32(n, c, s, l, in[0]->data<float>(), o[0]->data<float>());
        else kernels::x86::global_avg_pool_f32(n, c, s, l, in[0]->data<float>(), o[0]->data<float>());
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_GlobalAveragePool = {"GlobalAveragePool", "", infer_global_pool, create};
}  // namespace kaiwu::ops
