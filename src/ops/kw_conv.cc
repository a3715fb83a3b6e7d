// kaiwu.Conv: Conv with fused post-ops (activations, one residual Sum from input 3) and a choice of activation
// layout (`layout` = NCHW | NHWC), produced by the fusion and layout passes. Attributes: those of Conv, plus
// post_ops (strings: Relu, Clip, Sigmoid, Tanh, HardSwish, Linear, Swish, Sum), post_alpha, post_beta (floats).
#include <cstring>

#include "kernels/x86/conv_onednn.h"
#include "core/parallel.h"
#include "kernels/x86/gemv.h"
#include "kernels/x86/unary.h"
#include "ops/conv_geometry.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

using kernels::PostOp;
using kernels::PostOpKind;

Status post_ops_of(const ir::Node& n, std::vector<PostOp>* out) {
  std::vector<std::string> kinds;
  if (const ir::Attribute* a = n.attr("post_ops")) kinds = a->strings;
  std::vector<float> alpha = n.attr_floats("post_alpha"), beta = n.attr_floats("post_beta");
  if (alpha.size() != kinds.size() || beta.size() != kinds.size())
    return invalid_argument(n.describe() + ": post_ops, post_alpha and post_beta must have the same length");
  int sums = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const std::string& k = kinds[i];
    PostOpKind kind;
    if (k == "Relu") kind = PostOpKind::kRelu;
    else if (k == "Clip") kind = PostOpKind::kClip;
    else if (k == "Sigmoid") kind = PostOpKind::kSigmoid;
    else if (k == "Tanh") kind = PostOpKind::kTanh;
    else if (k == "HardSwish") kind = PostOpKind::kHardSwish;
    else if (k == "Linear") kind = PostOpKind::kLinear;
    else if (k == "Swish") kind = PostOpKind::kSwish;
    else if (k == "Sum") { kind = PostOpKind::kSum; ++sums; }
    else return invalid_argument(n.describe() + ": unknown post-op '" + k + "'");
    out->push_back(PostOp::of(kind, alpha[i], beta[i]));
  }
  if (sums > 1) return invalid_argument(n.describe() + ": at most one Sum post-op");
  if (sums == 1 && !n.has_input(3)) return invalid_argument(n.describe() + ": a Sum post-op needs input 3");
  return Status::Ok();
}

Status geometry(const ir::Node& n, const std::vector<TensorDesc>& in, bool has_bias, kernels::ConvParams* p) {
  Shape x = in[0].shape;
  if (node_layout(n) == kernels::ActLayout::kNHWC) x = nhwc_to_nchw(x);
  KW_RETURN_IF_ERROR(conv_geometry(n, x, in[1].shape, has_bias, p));
  return post_ops_of(n, &p->post_ops);
}

Shape output_shape(const kernels::ConvParams& p) {
  Shape y{p.batch, p.out_channels};
  y.insert(y.end(), p.out_dims.begin(), p.out_dims.end());
  return p.dst_layout == kernels::ActLayout::kNHWC ? nchw_to_nhwc(y) : y;
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs X and W");
  std::vector<TensorDesc> in;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) in.push_back(ctx.input(i));
  kernels::ConvParams p;
  KW_RETURN_IF_ERROR(geometry(ctx.node(), in, ctx.has_input(2), &p));
  if (ctx.input(0).dtype != DType::kF32) return ctx.fail("X must be f32");
  Shape y = output_shape(p);
  if (ctx.has_input(3) && ctx.input(3).shape != y)
    return ctx.fail("the summand " + shape_to_string(ctx.input(3).shape) + " must have the output shape " +
                    shape_to_string(y));
  ctx.outputs[0] = {DType::kF32, y};
  return Status::Ok();
}

// A 1x1 convolution of a 1x1 map with batch 1 (squeeze-excitation blocks) is a matrix-vector product.
class GemvConvKernel : public Kernel {
 public:
  GemvConvKernel(kernels::x86::GemvParams p, std::vector<float> w, std::vector<float> b)
      : p_(std::move(p)), w_(std::move(w)), b_(std::move(b)) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    kernels::x86::gemv_f32(p_, in[0]->data<float>(), w_.data(), b_.empty() ? nullptr : b_.data(),
                           out[0]->data<float>());
    return Status::Ok();
  }
  const char* impl_name() const override { return "gemv"; }

 private:
  kernels::x86::GemvParams p_;
  std::vector<float> w_, b_;
};

bool is_gemv(const kernels::ConvParams& p, const KernelInit& init) {
  if (p.batch != 1 || p.groups != 1 || p.has_sum() || init.values.size() < 2 || !init.values[1]) return false;
  if (p.has_bias && (init.values.size() < 3 || !init.values[2])) return false;
  for (size_t i = 0; i < p.in_dims.size(); ++i)
    if (p.in_dims[i] != 1 || p.out_dims[i] != 1 || p.kernel[i] != 1 || p.pads_begin[i] != 0) return false;
  return true;
}

// oneDNN 2.6 computes some chains of several eltwise post-ops wrongly (seen: Linear, HardSwish, Linear on a
// 3-channel input; tests/passes). So oneDNN gets the post-ops up to the first eltwise one, and Kaiwu applies the
// rest ("tail") in one pass over the output, chunk by chunk while it is in cache.
void split_post_ops(const std::vector<PostOp>& all, std::vector<PostOp>* head, std::vector<PostOp>* tail) {
  size_t i = 0;
  bool eltwise_seen = false;
  for (; i < all.size(); ++i) {
    if (all[i].kind != PostOpKind::kSum) {
      if (eltwise_seen) break;
      eltwise_seen = true;
    }
    head->push_back(all[i]);
  }
  tail->assign(all.begin() + i, all.end());
}

void apply_tail(const std::vector<PostOp>& tail, const float* summand, float* y, int64_t n) {
  parallel_for(n, 16384, [&](int64_t b, int64_t e) {
    float* v = y + b;
    const int64_t m = e - b;
    for (const PostOp& op : tail) {
      kernels::ref::UnaryParams u;
      u.alpha = op.alpha;
      u.beta = op.beta;
      switch (op.kind) {
        case PostOpKind::kSum:
          for (int64_t i = 0; i < m; ++i) v[i] += op.alpha * summand[b + i];
          continue;
        case PostOpKind::kLinear:
          for (int64_t i = 0; i < m; ++i) v[i] = op.alpha * v[i] + op.beta;
          continue;
        case PostOpKind::kRelu: u.kind = op.alpha == 0.f ? kernels::ref::UnaryKind::kRelu : kernels::ref::UnaryKind::kLeakyRelu; break;
        case PostOpKind::kClip: u.kind = kernels::ref::UnaryKind::kClip; break;
        case PostOpKind::kSigmoid: u.kind = kernels::ref::UnaryKind::kSigmoid; break;
        case PostOpKind::kTanh: u.kind = kernels::ref::UnaryKind::kTanh; break;
        case PostOpKind::kHardSwish: u.kind = kernels::ref::UnaryKind::kHardSwish; break;
        default:
          for (int64_t i = 0; i < m; ++i) v[i] = kernels::ref::apply_eltwise(op, v[i]);
          continue;
      }
      kernels::x86::unary_f32(v, v, m, u);
    }
  });
}

class KwConvKernel : public Kernel {
 public:
  KwConvKernel(kernels::ConvParams p, std::unique_ptr<kernels::x86::ConvOnednn> fast, std::vector<PostOp> tail)
      : p_(std::move(p)), fast_(std::move(fast)), tail_(std::move(tail)) {
    // The summand is prefilled into dst when oneDNN's part of the chain holds the Sum.
    bool sum_anywhere = false, sum_in_tail = false;
    for (const PostOp& op : p_.post_ops) sum_anywhere |= op.kind == PostOpKind::kSum;
    for (const PostOp& op : tail_) sum_in_tail |= op.kind == PostOpKind::kSum;
    sum_in_head_ = sum_anywhere && !sum_in_tail;
  }
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    float* y = out[0]->data<float>();
    if (out[0]->numel() == 0) return Status::Ok();
    const float* b = p_.has_bias ? in[2]->data<float>() : nullptr;
    if (!fast_) {  // the reference applies the whole chain; dst holds the summand on entry
      if (in.size() > 3 && in[3] && in[3]->raw() != y) std::memcpy(y, in[3]->raw(), out[0]->nbytes());
      kernels::ref::conv_f32(p_, in[0]->data<float>(), in[1]->data<float>(), b, y);
      return Status::Ok();
    }
    if (sum_in_head_ && in[3]->raw() != y) std::memcpy(y, in[3]->raw(), out[0]->nbytes());
    fast_->run(in[0]->data<float>(), y, in[1]->data<float>(), b);
    if (!tail_.empty()) apply_tail(tail_, in.size() > 3 && in[3] ? in[3]->data<float>() : nullptr, y, out[0]->numel());
    return Status::Ok();
  }
  const char* impl_name() const override { return fast_ ? "onednn" : "ref"; }

 private:
  kernels::ConvParams p_;
  std::unique_ptr<kernels::x86::ConvOnednn> fast_;
  std::vector<PostOp> tail_;
  bool sum_in_head_ = false;
};

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ConvParams p;
  KW_RETURN_IF_ERROR(geometry(init.node, init.inputs, init.has_input(2), &p));
  if (!init.reference_only && is_gemv(p, init)) {
    kernels::x86::GemvParams g;
    g.k = p.in_channels;
    g.n = p.out_channels;
    g.post_ops = p.post_ops;
    const float* w = init.values[1]->data<float>();
    std::vector<float> b;
    if (p.has_bias) b.assign(init.values[2]->data<float>(), init.values[2]->data<float>() + p.out_channels);
    *out = std::make_unique<GemvConvKernel>(g, std::vector<float>(w, w + g.k * g.n), std::move(b));
    return Status::Ok();
  }
  std::unique_ptr<kernels::x86::ConvOnednn> fast;
  std::vector<PostOp> tail;
  if (!init.reference_only && p.dst_size() > 0) {
    const Tensor* w = init.values.size() > 1 ? init.values[1] : nullptr;
    const Tensor* b = init.values.size() > 2 ? init.values[2] : nullptr;
    kernels::x86::ConvOnednnOptions opt;
    opt.act_format = kernels::x86::OnednnActFormat::kPlain;  // NHWC: oneDNN's brgemm convs read it directly
    if (p.src_layout == kernels::ActLayout::kNCHW) opt.act_format = kernels::x86::OnednnActFormat::kDefault;
    kernels::ConvParams head_params = p;
    head_params.post_ops.clear();
    split_post_ops(p.post_ops, &head_params.post_ops, &tail);
    Status st = kernels::x86::ConvOnednn::create(head_params, w ? w->data<float>() : nullptr,
                                                 p.has_bias && b ? b->data<float>() : nullptr, &fast, opt);
    if (!st.ok()) {
      fast.reset();
      tail.clear();
    }
  }
  *out = std::make_unique<KwConvKernel>(std::move(p), std::move(fast), std::move(tail));
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwConv = {"Conv", "kaiwu", infer, create};
}  // namespace kaiwu::ops
