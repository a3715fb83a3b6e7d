#include "ops/conv_geometry.h"

#include "core/parallel.h"
#include "kernels/ref/conv_transpose.h"
#include "kernels/x86/conv_onednn.h"

namespace kaiwu::ops {

Status read_conv_window(const ir::Node& node, const Shape& x, const Shape& w, int64_t* group, WindowAttrs* wa) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 3 || x.size() > 5) return fail("X must have rank 3..5, got " + shape_to_string(x));
  if (w.size() != x.size()) return fail("W " + shape_to_string(w) + " must have the rank of X " + shape_to_string(x));
  const size_t nsp = x.size() - 2;
  *group = node.attr_int("group", 1);
  if (*group <= 0) return fail("group must be positive");
  std::vector<int64_t> kernel = node.attr_ints("kernel_shape", std::vector<int64_t>(w.begin() + 2, w.end()));
  if (kernel.empty()) kernel.assign(w.begin() + 2, w.end());
  for (size_t i = 0; i < nsp && i < kernel.size(); ++i)
    if (kernel[i] != w[i + 2])
      return fail("kernel_shape " + ints_to_string(kernel) + " does not match W " + shape_to_string(w));
  std::string why = read_window_attrs(node, nsp, kernel, wa);
  if (!why.empty()) return fail(why);
  return Status::Ok();
}

Status conv_geometry(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, kernels::ConvParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  int64_t group = 1;
  WindowAttrs wa;
  KW_RETURN_IF_ERROR(read_conv_window(node, x, w, &group, &wa));
  if (x[1] != w[1] * group)
    return fail("X has " + std::to_string(x[1]) + " channels but W " + shape_to_string(w) + " with group " +
                std::to_string(group) + " expects " + std::to_string(w[1] * group));
  if (w[0] % group) return fail("output channels " + std::to_string(w[0]) + " are not divisible by group");
  std::vector<int64_t> in(x.begin() + 2, x.end()), out;
  std::string why = window_output_dims(&wa, in, false, &out);
  if (!why.empty()) return fail(why);
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[0];
  p->groups = group;
  p->in_dims = in;
  p->out_dims = out;
  set_window(wa, p);
  p->has_bias = has_bias;
  p->set_layout(node_layout(node));
  return Status::Ok();
}

kernels::ActLayout node_layout(const ir::Node& node) {
  return node.attr_string("layout", "NCHW") == "NHWC" ? kernels::ActLayout::kNHWC : kernels::ActLayout::kNCHW;
}

Shape nhwc_to_nchw(const Shape& s) {
  Shape r = s;
  if (s.size() < 3) return r;
  r[1] = s.back();
  for (size_t i = 2; i < s.size(); ++i) r[i] = s[i - 1];
  return r;
}

Shape nchw_to_nhwc(const Shape& s) {
  Shape r = s;
  if (s.size() < 3) return r;
  r.back() = s[1];
  for (size_t i = 1; i + 1 < s.size(); ++i) r[i] = s[i + 1];
  return r;
}

Status infer_conv_f32(InferContext& ctx, ConvGeometryFn geometry) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs X and W");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  kernels::ConvParams p;
  KW_RETURN_IF_ERROR(geometry(ctx.node(), x.shape, ctx.input(1).shape, ctx.has_input(2), &p));
  if (ctx.has_input(2) && shape_numel(ctx.input(2).shape) != p.out_channels)
    return ctx.fail("B " + shape_to_string(ctx.input(2).shape) + " must have " + std::to_string(p.out_channels) +
                    " elements");
  Shape y{p.batch, p.out_channels};
  y.insert(y.end(), p.out_dims.begin(), p.out_dims.end());
  ctx.outputs[0] = {x.dtype, y};
  return Status::Ok();
}

namespace {

class ConvF32Kernel : public Kernel {
 public:
  ConvF32Kernel(kernels::ConvParams p, bool transposed, std::unique_ptr<kernels::x86::ConvOnednn> fast)
      : p_(std::move(p)), transposed_(transposed), fast_(std::move(fast)) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data<float>();
    const float* w = in[1]->data<float>();
    const float* b = p_.has_bias ? in[2]->data<float>() : nullptr;
    float* y = out[0]->data<float>();
    if (out[0]->numel() == 0) return Status::Ok();
    if (fast_) fast_->run(x, y, w, b);
    else  // the reference, its output planes split over threads
      parallel_for(p_.batch * p_.out_channels, 1, [&](int64_t s, int64_t e) {
        if (transposed_) kernels::ref::conv_transpose_f32(p_, x, w, b, y, s, e);
        else kernels::ref::conv_f32(p_, x, w, b, y, s, e);
      });
    return Status::Ok();
  }
  const char* impl_name() const override { return fast_ ? "onednn" : "ref"; }

 private:
  kernels::ConvParams p_;
  bool transposed_;
  std::unique_ptr<kernels::x86::ConvOnednn> fast_;
};

}  // namespace

Status create_conv_f32(const KernelInit& init, ConvGeometryFn geometry, bool transposed, std::unique_ptr<Kernel>* out) {
  for (size_t i = 0; i < 3; ++i)
    if (init.has_input(i) && init.inputs[i].dtype != DType::kF32)
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[i].dtype) + " is not supported");
  kernels::ConvParams p;
  KW_RETURN_IF_ERROR(geometry(init.node, init.inputs[0].shape, init.inputs[1].shape, init.has_input(2), &p));
  p.set_layout(kernels::ActLayout::kNCHW);
  std::unique_ptr<kernels::x86::ConvOnednn> fast;
  if (!init.reference_only && p.dst_size() > 0 && (!transposed || p.src_size() > 0)) {
    const Tensor* w = init.values.size() > 1 ? init.values[1] : nullptr;
    const Tensor* b = init.values.size() > 2 ? init.values[2] : nullptr;
    kernels::x86::ConvOnednnOptions opt;
    opt.transposed = transposed;
    Status st = kernels::x86::ConvOnednn::create(p, w ? w->data<float>() : nullptr,
                                                 p.has_bias && b ? b->data<float>() : nullptr, &fast, opt);
    if (!st.ok()) fast.reset();  // no oneDNN implementation: the reference runs instead
  }
  *out = std::make_unique<ConvF32Kernel>(std::move(p), transposed, std::move(fast));
  return Status::Ok();
}

}  // namespace kaiwu::ops
