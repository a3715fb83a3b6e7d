#include "calib/range_select.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace kaiwu::calib {
namespace {

std::string fmt_method(const char* name, double v) {
  std::ostringstream os;
  os.precision(10);
  os << name << "=" << v;
  return os.str();
}

// Makes a range safe: finite, min <= max, threshold = max(|min|, |max|).
TensorRange finish(float lo, float hi, std::string method) {
  if (!std::isfinite(lo)) lo = 0.f;
  if (!std::isfinite(hi)) hi = 0.f;
  if (lo > hi) std::swap(lo, hi);
  TensorRange r;
  r.min = lo;
  r.max = hi;
  r.threshold = std::max(std::fabs(lo), std::fabs(hi));
  r.method = std::move(method);
  return r;
}

// Clips the exact range of h to [-t, t].
TensorRange clip_symmetric(const HistogramObserver& h, double t, std::string method) {
  float tf = static_cast<float>(t);
  float amax = std::max(std::fabs(h.min()), std::fabs(h.max()));
  if (!(tf <= amax)) tf = amax;
  return finish(std::max(h.min(), -tf), std::min(h.max(), tf), std::move(method));
}

// Last non-empty index + 1 of a histogram.
size_t used_bins(const std::vector<double>& a) {
  size_t m = a.size();
  while (m > 0 && a[m - 1] == 0.0) --m;
  return m;
}

}  // namespace

bool parse_range_method(const std::string& s, RangeMethod* out) {
  if (s == "max") *out = RangeMethod::kMax;
  else if (s == "percentile") *out = RangeMethod::kPercentile;
  else if (s == "kl" || s == "entropy") *out = RangeMethod::kKl;
  else if (s == "mse") *out = RangeMethod::kMse;
  else return false;
  return true;
}

const char* range_method_name(RangeMethod m) {
  switch (m) {
    case RangeMethod::kMax: return "max";
    case RangeMethod::kPercentile: return "percentile";
    case RangeMethod::kKl: return "kl";
    case RangeMethod::kMse: return "mse";
  }
  return "?";
}

TensorRange select_max(const MinMaxObserver& mm) {
  if (!mm.has_range()) return finish(0.f, 0.f, "max");
  return finish(mm.min(), mm.max(), "max");
}

TensorRange select_max(const HistogramObserver& h, double max_percentile) {
  if (!h.has_finite()) return finish(0.f, 0.f, "max");
  if (max_percentile >= 1.0 || !h.has_range()) return finish(h.min(), h.max(), "max");
  std::vector<double> a = h.abs_histogram();
  double total = 0;
  for (double c : a) total += c;
  const double want = max_percentile * total;
  double cum = 0;
  size_t j = 0;
  for (; j < a.size(); ++j) {
    cum += a[j];
    if (cum >= want) break;
  }
  return clip_symmetric(h, (j + 1) * h.bin_width(), fmt_method("max_percentile", max_percentile));
}

TensorRange select_percentile(const HistogramObserver& h, double p) {
  std::string method = fmt_method("percentile", p);
  if (!h.has_finite()) return finish(0.f, 0.f, method);
  if (p >= 1.0 || !h.has_range()) return finish(h.min(), h.max(), method);
  const std::vector<uint64_t>& b = h.bins();
  const int nb = h.bins_per_side();
  const double w = h.bin_width();
  const double total = static_cast<double>(h.finite_count());
  const double tail = (1.0 - p) * total;
  // Ordered cells: signed bins below zero, the exact zeros, bins above zero. Cell edges in value units.
  auto cell_count = [&](int c) -> double {  // c in [0, 2nb]; c == nb is the zero cell
    if (c < nb) return static_cast<double>(b[c]);
    if (c == nb) return static_cast<double>(h.zero_count());
    return static_cast<double>(b[c - 1]);
  };
  auto cell_lo = [&](int c) { return c <= nb ? (c - nb) * w : (c - 1 - nb) * w; };
  auto cell_hi = [&](int c) { return c < nb ? (c - nb + 1) * w : (c == nb ? 0.0 : (c - nb) * w); };
  double cum = 0, lo = h.min(), hi = h.max();
  for (int c = 0; c <= 2 * nb; ++c) {
    cum += cell_count(c);
    if (cum > tail) { lo = cell_lo(c); break; }
  }
  cum = 0;
  for (int c = 2 * nb; c >= 0; --c) {
    cum += cell_count(c);
    if (cum > tail) { hi = cell_hi(c); break; }
  }
  float flo = std::max(h.min(), static_cast<float>(lo)), fhi = std::min(h.max(), static_cast<float>(hi));
  if (flo > fhi) flo = fhi = h.max();
  return finish(flo, fhi, method);
}

TensorRange select_kl(const HistogramObserver& h, int levels) {
  if (!h.has_finite()) return finish(0.f, 0.f, "kl");
  if (!h.has_range()) return finish(h.min(), h.max(), "kl");
  levels = std::max(levels, 2);
  // Exact zeros (ReLU outputs, padding) quantize without error whatever the threshold; left in bin 0 their mass
  // would dominate the first chunk of Q and drag the threshold down, so they are left out.
  std::vector<double> a = h.abs_histogram();
  a[0] -= static_cast<double>(h.zero_count());
  const size_t m = used_bins(a);
  if (m <= static_cast<size_t>(levels)) return finish(h.min(), h.max(), "kl");
  // For a candidate of i bins: P_j = a_j (j < i - 1), P_{i-1} = a_{i-1} + o with o = sum a[i, m); the total of P
  // is always T. Q_j = cs / nz over each chunk's non-empty bins (0 elsewhere), total S(i) = sum a[0, i). Then
  //   KL(P/T || Q/S) = (sum P log P - sum P log Q) / T + log(S / T),
  // and with prefix sums of a, a log a and the non-empty count each candidate costs O(levels), not O(i).
  auto xlogx = [](double x) { return x > 0 ? x * std::log(x) : 0.0; };
  std::vector<double> S(m + 1, 0), AL(m + 1, 0), NZ(m + 1, 0);
  for (size_t j = 0; j < m; ++j) {
    S[j + 1] = S[j] + a[j];
    AL[j + 1] = AL[j] + xlogx(a[j]);
    NZ[j + 1] = NZ[j] + (a[j] != 0.0);
  }
  const double T = S[m];
  double best = INFINITY;
  size_t best_i = m;
  for (size_t i = static_cast<size_t>(levels); i <= m; ++i) {
    if (S[i] == 0.0) continue;  // nothing below the candidate: Q is empty
    const double o = T - S[i], last = a[i - 1];
    const double plogp = AL[i] - xlogx(last) + xlogx(last + o);
    double plogq = 0, q_last = 0;
    for (int c = 0; c < levels; ++c) {
      size_t lo = c * i / levels, hi = (c + 1) * i / levels;
      double cs = S[hi] - S[lo], nz = NZ[hi] - NZ[lo];
      if (nz == 0) continue;
      double q = cs / nz;
      plogq += cs * std::log(q);
      if (hi == i) q_last = q;
    }
    if (o > 0) {
      if (last == 0.0) q_last = 1e-12 * S[i];  // smoothing: P has mass Q cannot represent
      plogq += o * std::log(q_last);
    }
    double kl = (plogp - plogq) / T + std::log(S[i] / T);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return clip_symmetric(h, static_cast<double>(best_i) * h.bin_width(), "kl");
}

TensorRange select_mse(const HistogramObserver& h, qmath::QType t) {
  if (!h.has_finite()) return finish(0.f, 0.f, "mse");
  if (!h.has_range()) return finish(h.min(), h.max(), "mse");
  const qmath::QRange qr = qmath::qrange(t);
  const double half = std::max(1, (qr.qmax - qr.qmin) / 2);
  std::vector<double> a = h.abs_histogram();
  a[0] -= static_cast<double>(h.zero_count());  // exact zeros quantize without error
  const size_t m = used_bins(a);
  size_t nonempty = 0;
  for (size_t j = 0; j < m; ++j) nonempty += a[j] != 0.0;
  if (nonempty <= 1) return finish(h.min(), h.max(), "mse");  // a point mass: the exact range has no error
  const double w = h.bin_width();
  const double amax = std::max(std::fabs(h.min()), std::fabs(h.max()));
  // Suffix sums over bin centres c_j = (j + 0.5) w: S0 = sum a, S1 = sum a c, S2 = sum a c^2.
  std::vector<double> s0(m + 1, 0), s1(m + 1, 0), s2(m + 1, 0);
  for (size_t j = m; j-- > 0;) {
    double c = (j + 0.5) * w;
    s0[j] = s0[j + 1] + a[j];
    s1[j] = s1[j + 1] + a[j] * c;
    s2[j] = s2[j + 1] + a[j] * c * c;
  }
  double best = INFINITY, best_t = amax;
  for (size_t i = 1; i <= m; ++i) {
    double thr = i == m ? amax : i * w;
    double step = thr / half;
    double in_range = s0[0] - s0[i];
    double err = in_range * step * step / 12.0 + (s2[i] - 2 * thr * s1[i] + thr * thr * s0[i]);
    if (err < best) {
      best = err;
      best_t = thr;
    }
  }
  return clip_symmetric(h, best_t, "mse");
}

Status select_range(const HistogramObserver* h, const MinMaxObserver* mm, const SelectOptions& o,
                    TensorRange* out) {
  switch (o.method) {
    case RangeMethod::kMax:
      if (!(o.max_percentile > 0.0 && o.max_percentile <= 1.0))
        return invalid_argument("max_percentile must be in (0, 1], got " + std::to_string(o.max_percentile));
      if (o.max_percentile >= 1.0 && !h) {
        if (!mm) return invalid_argument("select_range: no statistics");
        *out = select_max(*mm);
        return Status::Ok();
      }
      if (!h) return invalid_argument("max_percentile < 1 needs histogram statistics");
      *out = select_max(*h, o.max_percentile);
      return Status::Ok();
    case RangeMethod::kPercentile:
      if (!(o.percentile > 0.5 && o.percentile <= 1.0))
        return invalid_argument("percentile must be in (0.5, 1], got " + std::to_string(o.percentile));
      if (!h) return invalid_argument("percentile calibration needs histogram statistics");
      *out = select_percentile(*h, o.percentile);
      return Status::Ok();
    case RangeMethod::kKl:
      if (!h) return invalid_argument("kl calibration needs histogram statistics");
      *out = select_kl(*h, o.kl_levels);
      return Status::Ok();
    case RangeMethod::kMse:
      if (!h) return invalid_argument("mse calibration needs histogram statistics");
      *out = select_mse(*h, o.qtype);
      return Status::Ok();
  }
  return invalid_argument("select_range: unknown method");
}

Status range_qparams(const TensorRange& r, qmath::QType t, qmath::QScheme scheme, qmath::QParams* out) {
  TensorRange s = finish(r.min, r.max, r.method);
  if (scheme == qmath::QScheme::kSymmetric) {
    float thr = std::isfinite(r.threshold) ? std::max(std::fabs(r.threshold), s.threshold) : s.threshold;
    return qmath::choose_qparams(-thr, thr, t, scheme, out);
  }
  return qmath::choose_qparams(s.min, s.max, t, scheme, out);
}

}  // namespace kaiwu::calib
