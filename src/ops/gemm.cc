// Gemm: Y = alpha * op(A) * op(B) + beta * C (ONNX opsets 7..19; C optional from 11, unidirectionally broadcast).
// f32 through oneDNN matmul (B prepacked when constant), f64 on the reference.
#include "kernels/ref/matmul.h"
#include "kernels/x86/matmul_onednn.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

using kernels::MatmulParams;

// Params from the node and shapes; C's broadcast shape becomes the bias shape.
Status gemm_params(const ir::Node& node, const Shape& a, const Shape& b, const Shape* c, MatmulParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (a.size() != 2 || b.size() != 2)
    return fail("A " + shape_to_string(a) + " and B " + shape_to_string(b) + " must be matrices");
  p->trans_a = node.attr_int("transA", 0) != 0;
  p->trans_b = node.attr_int("transB", 0) != 0;
  p->m = p->trans_a ? a[1] : a[0];
  p->k = p->trans_a ? a[0] : a[1];
  const int64_t kb = p->trans_b ? b[1] : b[0];
  p->n = p->trans_b ? b[0] : b[1];
  if (kb != p->k) return fail("inner dimensions differ: A " + shape_to_string(a) + ", B " + shape_to_string(b));
  p->alpha = node.attr_float("alpha", 1.f);
  const float beta = node.attr_float("beta", 1.f);
  p->has_bias = c != nullptr && beta != 0.f;
  if (c) {
    if (c->size() > 2) return fail("C " + shape_to_string(*c) + " must have rank <= 2");
    int64_t cm = c->size() == 2 ? (*c)[0] : 1, cn = c->empty() ? 1 : c->back();
    if ((cm != 1 && cm != p->m) || (cn != 1 && cn != p->n))
      return fail("C " + shape_to_string(*c) + " does not broadcast to [" + std::to_string(p->m) + ", " +
                  std::to_string(p->n) + "]");
    p->bias_m = cm;
    p->bias_n = cn;
  }
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs A and B");
  if (ctx.input(0).dtype != ctx.input(1).dtype) return ctx.fail("A and B have different dtypes");
  MatmulParams p;
  KW_RETURN_IF_ERROR(gemm_params(ctx.node(), ctx.input(0).shape, ctx.input(1).shape,
                                 ctx.has_input(2) ? &ctx.input(2).shape : nullptr, &p));
  ctx.outputs[0] = {ctx.input(0).dtype, {p.m, p.n}};
  return Status::Ok();
}

template <typename T>
class GemmKernel : public Kernel {
 public:
  GemmKernel(MatmulParams p, float beta, std::vector<T> bias, std::unique_ptr<kernels::x86::MatmulOnednn> fast)
      : p_(std::move(p)), beta_(beta), bias_(std::move(bias)), fast_(std::move(fast)) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const T* bias = nullptr;
    if (p_.has_bias) {
      if (!bias_.empty()) {
        bias = bias_.data();
      } else if (beta_ == 1.f) {
        bias = in[2]->data<T>();
      } else {  // scale a run-time C by beta
        scratch_.resize(p_.bias_m * p_.bias_n);
        for (size_t i = 0; i < scratch_.size(); ++i) scratch_[i] = static_cast<T>(beta_ * in[2]->data<T>()[i]);
        bias = scratch_.data();
      }
    }
    if (out[0]->numel() == 0) return Status::Ok();
    if constexpr (std::is_same<T, float>::value) {
      if (fast_) {
        fast_->run(in[0]->data<float>(), in[1]->data<float>(), bias, out[0]->data<float>());
        return Status::Ok();
      }
    }
    kernels::ref::matmul<T>(p_, in[0]->data<T>(), in[1]->data<T>(), bias, out[0]->data<T>());
    return Status::Ok();
  }
  const char* impl_name() const override { return fast_ ? "onednn" : "ref"; }

 private:
  MatmulParams p_;
  float beta_;
  std::vector<T> bias_, scratch_;
  std::unique_ptr<kernels::x86::MatmulOnednn> fast_;
};

template <typename T>
Status create_typed(const KernelInit& init, MatmulParams p, std::unique_ptr<Kernel>* out) {
  const float beta = init.node.attr_float("beta", 1.f);
  std::vector<T> bias;
  const Tensor* c = init.values.size() > 2 ? init.values[2] : nullptr;
  if (p.has_bias && c) {
    bias.resize(c->numel());
    for (int64_t i = 0; i < c->numel(); ++i) bias[i] = static_cast<T>(beta * c->data<T>()[i]);
  }
  std::unique_ptr<kernels::x86::MatmulOnednn> fast;
  if constexpr (std::is_same<T, float>::value) {
    if (!init.reference_only && p.m > 0 && p.n > 0 && p.k > 0) {
      const Tensor* b = init.values.size() > 1 ? init.values[1] : nullptr;
      if (!kernels::x86::MatmulOnednn::create(p, b ? b->data<float>() : nullptr, bias.empty() ? nullptr : bias.data(),
                                              &fast)
               .ok())
        fast.reset();
    }
  }
  *out = std::make_unique<GemmKernel<T>>(std::move(p), beta, std::move(bias), std::move(fast));
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  MatmulParams p;
  KW_RETURN_IF_ERROR(gemm_params(init.node, init.inputs[0].shape, init.inputs[1].shape,
                                 init.has_input(2) ? &init.inputs[2].shape : nullptr, &p));
  const DType t = init.inputs[0].dtype;
  if (init.has_input(2) && init.inputs[2].dtype != t) return init.fail("C has a different dtype from A");
  if (t == DType::kF32) return create_typed<float>(init, std::move(p), out);
  if (t == DType::kF64) return create_typed<double>(init, std::move(p), out);
  return unsupported(init.node.describe() + ": dtype " + dtype_name(t) + " is not supported");
}

}  // namespace
extern const OpDef kOp_Gemm = {"Gemm", "", infer, create};
}  // namespace kaiwu::ops
