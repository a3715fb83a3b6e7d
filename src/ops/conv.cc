// Conv: N-d grouped, dilated, padded convolution (ONNX opsets 1..19). f32 through oneDNN (NCHW activations),
// with the scalar reference as fallback and for reference_only sessions.
#include "core/parallel.h"
#include "kernels/ref/conv.h"
#include "kernels/x86/conv_onednn.h"
#include "ops/conv_attrs.h"
#include "ops/conv_geometry.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

using kernels::ConvParams;

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs X and W");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  ConvParams p;
  KW_RETURN_IF_ERROR(conv_geometry(ctx.node(), x.shape, ctx.input(1).shape, ctx.has_input(2), &p));
  if (ctx.has_input(2) && shape_numel(ctx.input(2).shape) != p.out_channels)
    return ctx.fail("B " + shape_to_string(ctx.input(2).shape) + " must have " + std::to_string(p.out_channels) +
                    " elements");
  Shape y{p.batch, p.out_channels};
  y.insert(y.end(), p.out_dims.begin(), p.out_dims.end());
  ctx.outputs[0] = {x.dtype, y};
  return Status::Ok();
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(ConvParams p, std::unique_ptr<kernels::x86::ConvOnednn> fast) : p_(std::move(p)), fast_(std::move(fast)) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data<float>();
    const float* w = in[1]->data<float>();
    const float* b = p_.has_bias ? in[2]->data<float>() : nullptr;
    float* y = out[0]->data<float>();
    if (out[0]->numel() == 0) return Status::Ok();
    if (fast_) fast_->run(x, y, w, b);
    else  // the reference, its output planes split over threads
      parallel_for(p_.batch * p_.out_channels, 1,
                   [&](int64_t s, int64_t e) { kernels::ref::conv_f32(p_, x, w, b, y, s, e); });
    return Status::Ok();
  }
  const char* impl_name() const override { return fast_ ? "onednn" : "ref"; }

 private:
  ConvParams p_;
  std::unique_ptr<kernels::x86::ConvOnednn> fast_;
};

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  for (size_t i = 0; i < 3; ++i)
    if (init.has_input(i) && init.inputs[i].dtype != DType::kF32)
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[i].dtype) + " is not supported");
  ConvParams p;
  KW_RETURN_IF_ERROR(conv_geometry(init.node, init.inputs[0].shape, init.inputs[1].shape, init.has_input(2), &p));
  p.set_layout(kernels::ActLayout::kNCHW);
  std::unique_ptr<kernels::x86::ConvOnednn> fast;
  if (!init.reference_only && p.dst_size() > 0) {
    const Tensor* w = init.values.size() > 1 ? init.values[1] : nullptr;
    const Tensor* b = init.values.size() > 2 ? init.values[2] : nullptr;
    Status st = kernels::x86::ConvOnednn::create(p, w ? w->data<float>() : nullptr,
                                                 p.has_bias && b ? b->data<float>() : nullptr, &fast);
    if (!st.ok()) fast.reset();  // no oneDNN implementation: the reference runs instead
  }
  *out = std::make_unique<ConvKernel>(std::move(p), std::move(fast));
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_Conv = {"Conv", "", infer, create};
}  // namespace kaiwu::ops
