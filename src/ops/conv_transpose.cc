// ConvTranspose: N-d grouped, dilated transposed convolution with output_padding / output_shape / auto_pad
// (ONNX opsets 1..19). f32 through oneDNN's deconvolution, with the scalar reference as fallback.
#include "core/parallel.h"
#include "kernels/ref/conv_transpose.h"
#include "kernels/x86/conv_onednn.h"
#include "ops/conv_attrs.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

using kernels::ConvParams;

// Geometry from the node and the shapes of X [N, C, d...] and W [C, M/group, k...].
Status conv_transpose_params(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, ConvParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 3 || x.size() > 5) return fail("X must have rank 3..5, got " + shape_to_string(x));
  if (w.size() != x.size()) return fail("W " + shape_to_string(w) + " must have the rank of X " + shape_to_string(x));
  const size_t nsp = x.size() - 2;
  const int64_t group = node.attr_int("group", 1);
  if (group <= 0) return fail("group must be positive");
  if (w[0] != x[1])
    return fail("X has " + std::to_string(x[1]) + " channels but W " + shape_to_string(w) + " expects " +
                std::to_string(w[0]));
  if (x[1] % group) return fail("input channels are not divisible by group");
  std::vector<int64_t> kernel = node.attr_ints("kernel_shape", std::vector<int64_t>(w.begin() + 2, w.end()));
  if (kernel.empty()) kernel.assign(w.begin() + 2, w.end());
  for (size_t i = 0; i < nsp && i < kernel.size(); ++i)
    if (kernel[i] != w[i + 2]) return fail("kernel_shape " + ints_to_string(kernel) + " does not match W " + shape_to_string(w));
  WindowAttrs wa;
  std::string why = read_window_attrs(node, nsp, kernel, &wa);
  if (!why.empty()) return fail(why);
  std::vector<int64_t> out_pad = node.attr_ints("output_padding", std::vector<int64_t>(nsp, 0));
  if (out_pad.empty()) out_pad.assign(nsp, 0);
  if (out_pad.size() != nsp) return fail("output_padding " + ints_to_string(out_pad) + " does not match the rank");
  std::vector<int64_t> out_shape = node.attr_ints("output_shape");
  if (out_shape.size() == nsp + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != nsp)
    return fail("output_shape " + ints_to_string(out_shape) + " does not match the rank");
  const bool same = wa.auto_pad == "SAME_UPPER" || wa.auto_pad == "SAME_LOWER";
  std::vector<int64_t> out(nsp);
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = x[i + 2], s = wa.strides[i], ek = (wa.kernel[i] - 1) * wa.dilations[i] + 1;
    if (out_pad[i] < 0) return fail("output_padding must be non-negative");
    const int64_t full = s * (in - 1) + out_pad[i] + ek;  // output size with no padding
    if (!out_shape.empty() || same) {
      const int64_t o = !out_shape.empty() ? out_shape[i] : in * s;
      const int64_t total = full - o;
      // ONNX: SAME_UPPER puts the extra pad at the end; otherwise (SAME_LOWER, NOTSET) at the beginning.
      const int64_t small = total >= 0 ? total / 2 : -((-total + 1) / 2), big = total - small;  // floor division
      wa.pads_begin[i] = wa.auto_pad == "SAME_UPPER" ? small : big;
      wa.pads_end[i] = wa.auto_pad == "SAME_UPPER" ? big : small;
      out[i] = o;
    } else {
      if (wa.auto_pad == "VALID") wa.pads_begin[i] = wa.pads_end[i] = 0;
      out[i] = full - wa.pads_begin[i] - wa.pads_end[i];
    }
    if (out[i] < 0) return fail("negative output size on spatial axis " + std::to_string(i));
  }
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[1] * group;
  p->groups = group;
  p->in_dims.assign(x.begin() + 2, x.end());
  p->out_dims = out;
  p->kernel = wa.kernel;
  p->strides = wa.strides;
  p->dilations = wa.dilations;
  p->pads_begin = wa.pads_begin;
  p->pads_end = wa.pads_end;
  p->has_bias = has_bias;
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs X and W");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  ConvParams p;
  KW_RETURN_IF_ERROR(conv_transpose_params(ctx.node(), x.shape, ctx.input(1).shape, ctx.has_input(2), &p));
  if (ctx.has_input(2) && shape_numel(ctx.input(2).shape) != p.out_channels)
    return ctx.fail("B " + shape_to_string(ctx.input(2).shape) + " must have " + std::to_string(p.out_channels) +
                    " elements");
  Shape y{p.batch, p.out_channels};
  y.insert(y.end(), p.out_dims.begin(), p.out_dims.end());
  ctx.outputs[0] = {x.dtype, y};
  return Status::Ok();
}

class ConvTransposeKernel : public Kernel {
 public:
  ConvTransposeKernel(ConvParams p, std::unique_ptr<kernels::x86::ConvOnednn> fast)
      : p_(std::move(p)), fast_(std::move(fast)) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data<float>();
    const float* w = in[1]->data<float>();
    const float* b = p_.has_bias ? in[2]->data<float>() : nullptr;
    float* y = out[0]->data<float>();
    if (out[0]->numel() == 0) return Status::Ok();
    if (fast_) fast_->run(x, y, w, b);
    else  // the reference, its output planes split over threads
      parallel_for(p_.batch * p_.out_channels, 1,
                   [&](int64_t s, int64_t e) { kernels::ref::conv_transpose_f32(p_, x, w, b, y, s, e); });
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
  KW_RETURN_IF_ERROR(
      conv_transpose_params(init.node, init.inputs[0].shape, init.inputs[1].shape, init.has_input(2), &p));
  std::unique_ptr<kernels::x86::ConvOnednn> fast;
  if (!init.reference_only && p.dst_size() > 0 && p.src_size() > 0) {
    const Tensor* w = init.values.size() > 1 ? init.values[1] : nullptr;
    const Tensor* b = init.values.size() > 2 ? init.values[2] : nullptr;
    kernels::x86::ConvOnednnOptions opt;
    opt.transposed = true;
    Status st = kernels::x86::ConvOnednn::create(p, w ? w->data<float>() : nullptr,
                                                 p.has_bias && b ? b->data<float>() : nullptr, &fast, opt);
    if (!st.ok()) fast.reset();
  }
  *out = std::make_unique<ConvTransposeKernel>(std::move(p), std::move(fast));
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_ConvTranspose = {"ConvTranspose", "", infer, create};
}  // namespace kaiwu::ops
