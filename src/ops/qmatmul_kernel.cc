#include "ops/qmatmul_kernel.h"

#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/qmatmul.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/qmatmul_onednn.h"
#include "kernels/x86/quantize.h"
#include "ops/quant_common.h"

namespace kaiwu::ops {

namespace {

const Tensor* opt_input(const std::vector<const Tensor*>& in, int i) {
  return i >= 0 && static_cast<size_t>(i) < in.size() ? in[i] : nullptr;
}

// Values of a per-row / per-column parameter gathered through `index` (zeros / ones when the input is absent).
std::vector<int32_t> gather_zp(const Tensor* t, const std::vector<int64_t>& index) {
  std::vector<int32_t> v(index.size(), 0);
  if (t)
    for (size_t i = 0; i < index.size(); ++i) v[i] = static_cast<int32_t>(t->get_i64(index[i]));
  return v;
}
std::vector<float> gather_scale(const Tensor& t, const std::vector<int64_t>& index) {
  std::vector<float> v(index.size());
  for (size_t i = 0; i < index.size(); ++i) v[i] = static_cast<float>(t.get_f64(index[i]));
  return v;
}

class QMatMulKernel : public Kernel {
 public:
  QMatMulInputs ix;
  QMatMulGeometry g;
  DType at = DType::kU8, bt = DType::kU8, yt = DType::kU8;
  bool reference_only = false;
  // Per (batch of a, row) / (batch of b, column): the flat index into each parameter tensor.
  std::vector<int64_t> a_zp_idx, b_zp_idx, a_scale_idx, b_scale_idx;
  std::unique_ptr<kernels::x86::QMatMulOnednn> fast;
  bool fused = false, b_packed = false;

  const char* impl_name() const override { return fast ? "onednn" : "ref"; }

  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const bool qlinear = ix.qlinear();
    const int64_t m = g.m, k = g.k, n = g.n, nb = static_cast<int64_t>(g.a_index.size());
    const std::vector<int32_t> a_zp = gather_zp(opt_input(in, ix.a_zp), a_zp_idx);
    const std::vector<int32_t> b_zp = gather_zp(opt_input(in, ix.b_zp), b_zp_idx);
    std::vector<float> a_s, b_s;
    float y_s = 1.f;
    int32_t y_zp = 0;
    if (qlinear) {
      a_s = gather_scale(*in[ix.a_scale], a_scale_idx);
      b_s = gather_scale(*in[ix.b_scale], b_scale_idx);
      y_s = static_cast<float>(in[ix.y_scale]->get_f64(0));
      const Tensor* yzt = opt_input(in, ix.y_zp);
      y_zp = yzt ? static_cast<int32_t>(yzt->get_i64(0)) : 0;
    }
    const void* a = in[ix.a]->raw();
    const void* b = in[ix.b]->raw();
    void* y = out[0]->raw();
    const int64_t total = nb * m * n;
    if (fast) {
      if (!qlinear) return fast->run(a, a_zp[0], b_packed ? nullptr : b, b_zp[0], 0, y);
      if (fused) return fast->run(a, a_zp[0], b_packed ? nullptr : b, b_zp[0], y_zp, y);
      std::vector<int32_t> acc(total);
      KW_RETURN_IF_ERROR(fast->run(a, a_zp[0], b_packed ? nullptr : b, b_zp[0], 0, acc.data()));
      requantize(acc.data(), a_s, b_s, y_s, y_zp, y, 0, nb * m);
      return Status::Ok();
    }
    std::vector<int32_t> acc_buf(qlinear ? total : 0);
    int32_t* acc = qlinear ? acc_buf.data() : static_cast<int32_t*>(y);
    const size_t asz = dtype_size(at), bsz = dtype_size(bt);
    const int64_t grain = k * n >= 65536 ? 1 : 65536 / (k * n + 1) + 1;
    parallel_for(nb * m, grain, [&](int64_t rb, int64_t re) {
      for (int64_t r = rb; r < re;) {  // row ranges within one batch
        const int64_t bi = r / m, i0 = r % m, i1 = std::min(m, i0 + (re - r));
        const int64_t ai = g.a_index[bi], bj = g.b_index[bi];
        kernels::ref::qgemm_s32(at, static_cast<const char*>(a) + ai * m * k * asz, a_zp.data() + ai * m, bt,
                                static_cast<const char*>(b) + bj * k * n * bsz, b_zp.data() + bj * n,
                                acc + bi * m * n, m, k, n, i0, i1);
        r += i1 - i0;
      }
      if (qlinear) requantize(acc, a_s, b_s, y_s, y_zp, y, rb, re);
    });
    return Status::Ok();
  }

 private:
  // Requantizes output rows [rb, re) (flat over batch x m).
  void requantize(const int32_t* acc, const std::vector<float>& a_s, const std::vector<float>& b_s, float y_s,
                  int32_t y_zp, void* y, int64_t rb, int64_t re) const {
    const int64_t m = g.m, n = g.n;
    if (!reference_only && a_s.size() == 1 && b_s.size() == 1) {  // per tensor everywhere: one multiplier
      const float mult = a_s[0] * b_s[0] / y_s;
      kernels::x86::requantize_s32(acc, nullptr, yt, y, 1, 1, &mult, y_zp, rb * n, re * n);
      return;
    }
    for (int64_t r = rb; r < re;) {
      const int64_t bi = r / m, i0 = r % m, i1 = std::min(m, i0 + (re - r));
      const float* as = a_s.size() == 1 ? nullptr : a_s.data() + g.a_index[bi] * m;
      const float* bs = b_s.size() == 1 ? nullptr : b_s.data() + g.b_index[bi] * n;
      std::vector<float> as_full, bs_full;
      if (!as) {
        as_full.assign(m, a_s[0]);
        as = as_full.data();
      }
      if (!bs) {
        bs_full.assign(n, b_s[0]);
        bs = bs_full.data();
      }
      char* yb = static_cast<char*>(y) + bi * m * n * dtype_size(yt);
      kernels::ref::requantize_s32_rows_cols(acc + bi * m * n, yt, yb, m, n, as, bs, y_s, y_zp, i0, i1);
      r += i1 - i0;
    }
  }
};

bool has(const KernelInit& init, int i) { return i >= 0 && init.has_input(i); }
const Tensor* value(const KernelInit& init, int i) {
  return i >= 0 && static_cast<size_t>(i) < init.values.size() ? init.values[i] : nullptr;
}

// Per-row / per-column index of parameter input i (a single 0 when absent).
std::string param_index(const std::vector<TensorDesc>& ins, int i, bool present, const QMatMulGeometry& g, bool for_a,
                        std::vector<int64_t>* idx) {
  return matmul_param_index(present ? ins[i].shape : Shape{}, g, for_a, idx);
}

}  // namespace

Status infer_qmatmul(InferContext& ctx, const QMatMulInputs& ix) {
  auto has = [&](int i) { return i >= 0 && ctx.has_input(i); };
  if (!has(ix.a) || !has(ix.b)) return ctx.fail("needs inputs a and b");
  const TensorDesc& a = ctx.input(ix.a);
  const TensorDesc& b = ctx.input(ix.b);
  if (!is_q8(a.dtype) || !is_q8(b.dtype))
    return ctx.fail(std::string("a and b must be uint8 or int8, got ") + dtype_name(a.dtype) + " and " +
                    dtype_name(b.dtype));
  QMatMulGeometry g;
  std::string why = qmatmul_geometry(a.shape, b.shape, &g);
  if (!why.empty()) return ctx.fail(why);
  std::vector<int64_t> idx;
  auto check = [&](int i, const char* what, bool for_a, DType want) -> std::string {
    if (!has(i)) return "";
    const TensorDesc& d = ctx.input(i);
    if (want == DType::kF32 ? (d.dtype != DType::kF32 && d.dtype != DType::kF16) : d.dtype != want)
      return std::string(what) + " has type " + dtype_name(d.dtype);
    std::string e = matmul_param_index(d.shape, g, for_a, &idx);
    return e.empty() ? "" : std::string(what) + " of shape " + shape_to_string(d.shape) + " " + e;
  };
  for (const std::string& e : {check(ix.a_zp, "a_zero_point", true, a.dtype), check(ix.b_zp, "b_zero_point", false, b.dtype)})
    if (!e.empty()) return ctx.fail(e);
  DType yt = DType::kI32;
  if (ix.qlinear()) {
    if (!has(ix.a_scale) || !has(ix.b_scale) || !has(ix.y_scale)) return ctx.fail("needs a_scale, b_scale and y_scale");
    yt = has(ix.y_zp) ? ctx.input(ix.y_zp).dtype : a.dtype;
    if (!is_q8(yt)) return ctx.fail(std::string("y_zero_point must be uint8 or int8, got ") + dtype_name(yt));
    for (const std::string& e : {check(ix.a_scale, "a_scale", true, DType::kF32), check(ix.b_scale, "b_scale", false, DType::kF32)})
      if (!e.empty()) return ctx.fail(e);
    for (int i : {ix.y_scale, ix.y_zp})
      if (has(i) && shape_numel(ctx.input(i).shape) != 1)
        return ctx.fail("y_scale and y_zero_point must be scalars, got " + shape_to_string(ctx.input(i).shape));
  }
  ctx.outputs[0] = {yt, g.out_shape};
  return Status::Ok();
}

Status create_qmatmul(const KernelInit& init, const QMatMulInputs& ix, std::unique_ptr<Kernel>* out) {
  auto k = std::make_unique<QMatMulKernel>();
  k->ix = ix;
  std::string why = qmatmul_geometry(init.inputs[ix.a].shape, init.inputs[ix.b].shape, &k->g);
  if (!why.empty()) return init.fail(why);
  k->at = init.inputs[ix.a].dtype;
  k->bt = init.inputs[ix.b].dtype;
  k->yt = init.outputs[0].dtype;
  k->reference_only = init.reference_only;
  const bool qlinear = ix.qlinear();
  const QMatMulGeometry& g = k->g;
  for (const std::string& e :
       {param_index(init.inputs, ix.a_zp, has(init, ix.a_zp), g, true, &k->a_zp_idx),
        param_index(init.inputs, ix.b_zp, has(init, ix.b_zp), g, false, &k->b_zp_idx),
        param_index(init.inputs, ix.a_scale, qlinear, g, true, &k->a_scale_idx),
        param_index(init.inputs, ix.b_scale, qlinear, g, false, &k->b_scale_idx)})
    if (!e.empty()) return init.fail(e);
  namespace x86 = kernels::x86;
  const int64_t nb = static_cast<int64_t>(g.a_index.size());
  auto numel = [&](int i) { return has(init, i) ? shape_numel(init.inputs[i].shape) : 1; };
  // The batch layout oneDNN takes: b without batches (flatten a's batches into rows), or equal batches.
  bool flat2d = g.b_batches == 1 && g.a_batches == nb, batched = g.a_batches == nb && g.b_batches == nb;
  if (!init.reference_only && numel(ix.a_zp) == 1 && numel(ix.b_zp) == 1 && (flat2d || batched) &&
      x86::QMatMulOnednn::types_supported(k->at, k->bt, qlinear ? k->yt : DType::kI32)) {
    x86::QMatMulOnednnConfig c;
    c.batch = flat2d ? 0 : nb;
    c.m = flat2d ? nb * g.m : g.m;
    c.k = g.k;
    c.n = g.n;
    c.at = k->at;
    c.bt = k->bt;
    c.yt = DType::kI32;
    const Tensor *azv = value(init, ix.a_zp), *bzv = value(init, ix.b_zp);
    c.a_zp_is_zero = !has(init, ix.a_zp) || (azv && azv->get_i64(0) == 0);
    const int64_t neutral = k->bt == DType::kU8 ? 128 : 0;
    c.b_zp_is_neutral = (!has(init, ix.b_zp) && neutral == 0) || (bzv && bzv->get_i64(0) == neutral);
    const Tensor *as = value(init, ix.a_scale), *bs = value(init, ix.b_scale), *ys = value(init, ix.y_scale);
    // Fuse constant scales: a per tensor, b per tensor or one value per column shared by all batches.
    if (qlinear && as && bs && ys && as->numel() == 1 && (bs->numel() == 1 || bs->rank() == 1)) {
      const float a0 = static_cast<float>(as->get_f64(0)), y0 = static_cast<float>(ys->get_f64(0));
      for (float b0 : read_scales(*bs)) c.multipliers.push_back(a0 * b0 / y0);
      bool finite = true;
      for (float v : c.multipliers) finite = finite && std::isfinite(v);
      if (finite) c.yt = k->yt;
      else c.multipliers.clear();
    }
    std::unique_ptr<x86::QMatMulOnednn> f;
    if (x86::QMatMulOnednn::create(c, &f).ok()) {
      k->fused = c.yt != DType::kI32;
      if (const Tensor* bv = value(init, ix.b)) {
        KW_RETURN_IF_ERROR(f->pack_weights(bv->raw()).with_context(init.node.describe()));
        k->b_packed = true;
      }
      k->fast = std::move(f);
    }
  }
  *out = std::move(k);
  return Status::Ok();
}

}  // namespace kaiwu::ops
