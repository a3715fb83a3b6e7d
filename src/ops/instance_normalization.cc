// InstanceNormalization (ONNX opsets 6..19): each (n, c) plane normalized by its own mean and variance, then
// y = scale[c] * x_hat + B[c].
#include "core/parallel.h"
#include "kernels/ref/norm.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

Status infer(InferContext& ctx) {
  for (size_t i = 0; i < 3; ++i)
    if (!ctx.has_input(i)) return ctx.fail("needs 3 inputs (input, scale, B)");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("input must be a float tensor, got ") + dtype_name(x.dtype));
  if (x.shape.size() < 2) return ctx.fail("input must have rank >= 2, got " + shape_to_string(x.shape));
  for (size_t i = 1; i < 3; ++i)
    if (shape_numel(ctx.input(i).shape) != x.shape[1])
      return ctx.fail(std::string(i == 1 ? "scale " : "B ") + shape_to_string(ctx.input(i).shape) + " must have " +
                      std::to_string(x.shape[1]) + " elements");
  ctx.outputs[0] = x;
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  for (size_t i = 0; i < 3; ++i)
    if (init.inputs[i].dtype != DType::kF32)
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[i].dtype) + " is not supported");
  const Shape& s = init.inputs[0].shape;
  const int64_t channels = s[1], planes = s[0] * s[1];
  int64_t inner = 1;
  for (size_t i = 2; i < s.size(); ++i) inner *= s[i];
  const float eps = init.node.attr_float("epsilon", 1e-5f);
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, inner));
  *out = make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    parallel_for(planes, grain, [&](int64_t b, int64_t e) {
      kernels::ref::instance_norm_f32(in[0]->data<float>(), in[1]->data<float>(), in[2]->data<float>(), eps, channels,
                                      inner, b, e, o[0]->data<float>());
    });
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_InstanceNormalization = {"InstanceNormalization", "", infer, create};
}  // namespace kaiwu::ops
