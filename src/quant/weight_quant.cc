// Weight quantization: int8 symmetric scales per channel (max |w| or the MSE-optimal clip), quantization with
// round-half-even, and the AdaRound-family rounding refinement of one channel (quant/refine.h).
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/qmath.h"
#include "quant/quant.h"
#include "quant/refine.h"

namespace kaiwu::quant {

const char* weight_range_name(WeightRange r) { return r == WeightRange::kMse ? "mse" : "max"; }

namespace {

// Sum of squared quantization errors of x[0..n) (stride `step`) with symmetric int8 scale s.
double channel_sse(const float* x, int64_t outer, int64_t ch_stride, int64_t inner, float s) {
  double e = 0;
  const float inv = 1.f / s;
  for (int64_t o = 0; o < outer; ++o) {
    const float* p = x + o * ch_stride;
    for (int64_t i = 0; i < inner; ++i) {
      float q = std::nearbyint(p[i] * inv);
      q = std::min(127.f, std::max(-127.f, q));
      const double d = static_cast<double>(q * s) - p[i];
      e += d * d;
    }
  }
  return e;
}

}  // namespace

Status weight_scales(const Tensor& w, int axis, WeightRange range, std::vector<float>* scales) {
  if (w.dtype() != DType::kF32) return invalid_argument("weight is not float32");
  const int64_t n = w.numel();
  int64_t outer = 1, ch = 1, inner = n;
  if (axis >= 0) {
    if (axis >= w.rank()) return invalid_argument("weight axis out of range");
    for (int i = 0; i < axis; ++i) outer *= w.dim(i);
    ch = w.dim(axis);
    inner = 1;
    for (int i = axis + 1; i < w.rank(); ++i) inner *= w.dim(i);
  }
  const float* x = w.data<float>();
  for (int64_t k = 0; k < n; ++k)
    if (!std::isfinite(x[k])) return invalid_argument("weight has a non-finite value (flat index " + std::to_string(k) + ")");
  scales->assign(ch, 1.f);
  std::vector<Status> errs(ch);
  parallel_for(ch, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      float amax = 0.f;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) amax = std::max(amax, std::fabs(x[(o * ch + c) * inner + i]));
      float best = amax;
      if (range == WeightRange::kMse && amax > 0.f) {
        // Clip candidates 1.0, 0.99, ..., 0.5 of max |w|; the largest clip wins ties.
        const float* base = x + c * inner;
        double best_e = channel_sse(base, outer, ch * inner, inner, amax / 127.f);
        for (int k = 1; k <= 50; ++k) {
          const float a = amax * (1.f - 0.01f * k);
          const double e2 = channel_sse(base, outer, ch * inner, inner, a / 127.f);
          if (e2 < best_e) best_e = e2, best = a;
        }
      }
      qmath::QParams p;
      errs[c] = qmath::choose_qparams(-best, best, qmath::QType::kInt8, qmath::QScheme::kSymmetric, &p);
      (*scales)[c] = p.scale;
    }
  });
  for (const auto& s : errs) KW_RETURN_IF_ERROR(s);
  return Status::Ok();
}

Status quantize_weight(const Tensor& w, int axis, WeightRange range, QuantizedWeight* out) {
  KW_RETURN_IF_ERROR(weight_scales(w, axis, range, &out->scales));
  int64_t outer = 1, ch = 1, inner = w.numel();
  if (axis >= 0) {
    for (int i = 0; i < axis; ++i) outer *= w.dim(i);
    ch = w.dim(axis);
    inner = 1;
    for (int i = axis + 1; i < w.rank(); ++i) inner *= w.dim(i);
  }
  out->q = Tensor::empty(DType::kI8, w.shape());
  qmath::quantize_per_axis<int8_t>(w.data<float>(), out->q.data<int8_t>(), outer, ch, inner, out->scales.data(),
                                   nullptr);
  out->axis = axis;
  return Status::Ok();
}

double rounding_error(const float* w, const int8_t* q, int64_t k, float scale, const double* h) {
  std::vector<double> e(k);
  for (int64_t i = 0; i < k; ++i) e[i] = static_cast<double>(q[i]) * scale - w[i];
  double r = 0;
  for (int64_t i = 0; i < k; ++i) {
    double hi = 0;
    for (int64_t j = 0; j < k; ++j) hi += h[i * k + j] * e[j];
    r += e[i] * hi;
  }
  return r;
}

int64_t refine_rounding(const float* w, int64_t k, float scale, const double* h, int passes, int8_t* q) {
  // e = scale * q - w; g = H e. Moving q_i by d (+1 or -1) changes e_i by d * scale and the objective e^T H e by
  // 2 d scale g_i + scale^2 H_ii. Only the two integers around w_i / scale are allowed (within [-127, 127]).
  std::vector<double> e(k), g(k, 0.0);
  for (int64_t i = 0; i < k; ++i) e[i] = static_cast<double>(q[i]) * scale - w[i];
  for (int64_t i = 0; i < k; ++i) {
    double s = 0;
    const double* hi = h + i * k;
    for (int64_t j = 0; j < k; ++j) s += hi[j] * e[j];
    g[i] = s;
  }
  int64_t flips = 0;
  const double s2 = static_cast<double>(scale) * scale;
  for (int pass = 0; pass < passes; ++pass) {
    int64_t changed = 0;
    for (int64_t i = 0; i < k; ++i) {
      const double t = w[i] / scale;
      const double lo = std::max(-127.0, std::floor(t)), hi_ = std::min(127.0, std::ceil(t));
      double d = 0;
      if (q[i] > lo && q[i] - 1 >= lo) d = -1;
      else if (q[i] < hi_ && q[i] + 1 <= hi_) d = 1;
      if (d == 0) continue;
      const double delta = 2 * d * scale * g[i] + s2 * h[i * k + i];
      if (delta >= -1e-12 * std::fabs(s2 * h[i * k + i])) continue;
      q[i] = static_cast<int8_t>(q[i] + static_cast<int>(d));
      e[i] += d * scale;
      const double ds = d * scale;
      const double* hr = h + i * k;  // column i of the symmetric H
      for (int64_t j = 0; j < k; ++j) g[j] += ds * hr[j];
      ++changed;
    }
    flips += changed;
    if (changed == 0) break;
  }
  return flips;
}

}  // namespace kaiwu::quant
