#include "kernels/x86/matmul_onednn.h"

#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "kernels/x86/onednn_util.h"

namespace kaiwu::kernels::x86 {

namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// A [batch..., rows, cols] operand stored contiguously, as [batch..., cols, rows] when `trans`.
dnnl::memory::desc operand_md(const std::vector<int64_t>& batch, int64_t rows, int64_t cols, bool trans) {
  dims d(batch.begin(), batch.end());
  d.push_back(rows);
  d.push_back(cols);
  dims s(d.size());
  const size_t r = d.size();
  s[r - 2] = trans ? 1 : cols;
  s[r - 1] = trans ? rows : 1;
  int64_t acc = rows * cols;
  for (size_t i = r - 2; i-- > 0;) {
    s[i] = acc;
    acc *= d[i];
  }
  return dnnl::memory::desc(d, dt::f32, s);
}

}  // namespace

MatmulOnednn::~MatmulOnednn() { std::free(packed_b_); }

Status MatmulOnednn::create(const MatmulParams& p, const float* b, const float* bias,
                            std::unique_ptr<MatmulOnednn>* out) {
  if (p.a_batch.size() != p.b_batch.size() || p.a_batch.size() > 10)
    return invalid_argument(p.describe() + ": bad batch dims");
  if (p.m <= 0 || p.k <= 0 || p.n <= 0) return unsupported(p.describe() + ": empty matrices");
  std::unique_ptr<MatmulOnednn> k(new MatmulOnednn());
  k->p_ = p;
  k->b_constant_ = b != nullptr;
  const bool fold_alpha = k->b_constant_ || p.alpha == 1.f;
  k->bias_native_ = p.has_bias && fold_alpha;
  std::vector<int64_t> ones(p.a_batch.size(), 1);
  k->a_md_ = operand_md(p.a_batch, p.m, p.k, p.trans_a);
  k->b_user_md_ = operand_md(p.b_batch, p.k, p.n, p.trans_b);
  k->y_md_ = operand_md(p.out_batch(), p.m, p.n, false);
  if (p.has_bias) k->bias_md_ = operand_md(ones, p.bias_m, p.bias_n, false);
  dims bd(p.b_batch.begin(), p.b_batch.end());
  bd.push_back(p.k);
  bd.push_back(p.n);
  dnnl::memory::desc b_any = k->b_constant_ ? dnnl::memory::desc(bd, dt::f32, tag::any) : k->b_user_md_;

  std::vector<PostOp> ops;
  if (!fold_alpha) ops.push_back(PostOp::of(PostOpKind::kLinear, p.alpha, 0.f));
  if (p.has_bias && !k->bias_native_) ops.push_back(PostOp::sum(1.f));
  if (p.has_bias && !k->bias_native_)
    for (const PostOp& op : p.post_ops)
      if (op.kind == PostOpKind::kSum) return unsupported(p.describe() + ": a sum post-op with a non-folded alpha");
  ops.insert(ops.end(), p.post_ops.begin(), p.post_ops.end());
  bool ok = true;
  dnnl::primitive_attr attr;
  attr.set_post_ops(onednn_post_ops(ops, &ok));
  if (!ok) return unsupported(p.describe() + ": a post-op has no oneDNN equivalent");
  auto& eng = onednn_engine();
  try {
    dnnl::matmul::desc d = k->bias_native_ ? dnnl::matmul::desc(k->a_md_, b_any, k->bias_md_, k->y_md_)
                                           : dnnl::matmul::desc(k->a_md_, b_any, k->y_md_);
    dnnl::matmul::primitive_desc pd(d, attr, eng);
    k->b_md_ = pd.weights_desc();
    k->impl_ = impl_name_of(pd);
    k->prim_ = dnnl::matmul(pd);
    if (k->b_constant_) {
      k->packed_b_ = std::aligned_alloc(64, (k->b_md_.get_size() + 63) / 64 * 64);
      if (!k->packed_b_) return internal_error("matmul: cannot allocate packed weights");
      const int64_t nb = k->b_user_md_.get_size() / sizeof(float);
      std::vector<float> scaled;
      const float* src = b;
      if (p.alpha != 1.f) {
        scaled.resize(nb);
        for (int64_t i = 0; i < nb; ++i) scaled[i] = b[i] * p.alpha;
        src = scaled.data();
      }
      auto& s = onednn_stream();
      dnnl::memory from(k->b_user_md_, eng, const_cast<float*>(src)), to(k->b_md_, eng, k->packed_b_);
      dnnl::reorder(dnnl::reorder::primitive_desc(eng, k->b_user_md_, eng, k->b_md_)).execute(s, from, to);
      s.wait();
    }
    if (p.has_bias && bias) {
      k->bias_constant_ = true;
      k->bias_.assign(bias, bias + p.bias_m * p.bias_n);
    }
  } catch (const dnnl::error& e) {
    return onednn_status(p.describe(), e);
  }
  *out = std::move(k);
  return Status::Ok();
}

void MatmulOnednn::run(const float* a, const float* b, const float* bias, float* y) {
  auto& eng = onednn_engine();
  auto& s = onednn_stream();
  const float* bias_ptr = bias_constant_ ? bias_.data() : bias;
  if (p_.has_bias && !bias_native_) {  // prefill y with the broadcast bias; the sum post-op adds it
    const int64_t count = p_.batch_count();
    for (int64_t bi = 0; bi < count; ++bi)
      for (int64_t i = 0; i < p_.m; ++i) {
        float* row = y + (bi * p_.m + i) * p_.n;
        const float* brow = bias_ptr + (p_.bias_m == 1 ? 0 : i) * p_.bias_n;
        if (p_.bias_n == 1) std::fill(row, row + p_.n, brow[0]);
        else std::memcpy(row, brow, p_.n * sizeof(float));
      }
  }
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(a_md_, eng, const_cast<float*>(a))},
      {DNNL_ARG_WEIGHTS, b_constant_ ? dnnl::memory(b_md_, eng, packed_b_)
                                     : dnnl::memory(b_md_, eng, const_cast<float*>(b))},
      {DNNL_ARG_DST, dnnl::memory(y_md_, eng, y)}};
  if (bias_native_) args[DNNL_ARG_BIAS] = dnnl::memory(bias_md_, eng, const_cast<float*>(bias_ptr));
  prim_.execute(s, args);
  s.wait();
}

}  // namespace kaiwu::kernels::x86
