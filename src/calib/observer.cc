#include "calib/observer.h"

#include <algorithm>
#include <cmath>

#include "calib/convert.h"

namespace kaiwu::calib {
namespace {

Status as_float(const Tensor& t, Tensor* out) {
  if (!t.defined()) return invalid_argument("observer: undefined tensor");
  if (t.dtype() == DType::kF32) {
    *out = t;
    return Status::Ok();
  }
  return convert_tensor(t, DType::kF32, out).with_context("observer");
}

int log2_int(int v) {
  int l = 0;
  while ((1 << l) < v) ++l;
  return l;
}

}  // namespace

// ---- MinMaxObserver -------------------------------------------------------------------------------------------

Status MinMaxObserver::update(const Tensor& in) {
  Tensor t;
  KW_RETURN_IF_ERROR(as_float(in, &t));
  const float* x = t.data<float>();
  const int64_t n = t.numel();
  if (axis_ < 0) {
    float lo = INFINITY, hi = -INFINITY;
    int64_t nan = 0, inf = 0;
    for (int64_t i = 0; i < n; ++i) {
      float v = x[i];
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      } else if (std::isnan(v)) {
        ++nan;
      } else {
        ++inf;
      }
    }
    if (lo <= hi) {
      if (!has_range_) { min_ = lo; max_ = hi; }
      else { min_ = std::min(min_, lo); max_ = std::max(max_, hi); }
      has_range_ = true;
    }
    count_ += n;
    nan_ += nan;
    inf_ += inf;
    return Status::Ok();
  }
  if (t.rank() <= axis_)
    return invalid_argument("per-channel observer on axis " + std::to_string(axis_) + " got a tensor of shape " +
                            shape_to_string(t.shape()));
  const int64_t c = t.dim(axis_);
  if (cmin_.empty() && !chas_.size()) {
    cmin_.assign(static_cast<size_t>(c), 0.f);
    cmax_.assign(static_cast<size_t>(c), 0.f);
    chas_.assign(static_cast<size_t>(c), 0);
  } else if (static_cast<int64_t>(cmin_.size()) != c) {
    return invalid_argument("per-channel observer: channel count changed from " + std::to_string(cmin_.size()) +
                            " to " + std::to_string(c) + " (shape " + shape_to_string(t.shape()) + ")");
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis_; ++i) outer *= t.dim(i);
  for (int i = axis_ + 1; i < t.rank(); ++i) inner *= t.dim(i);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* p = x + (o * c + ch) * inner;
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t i = 0; i < inner; ++i) {
        float v = p[i];
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        } else if (std::isnan(v)) {
          ++nan_;
        } else {
          ++inf_;
        }
      }
      if (lo > hi) continue;
      if (!chas_[ch]) { cmin_[ch] = lo; cmax_[ch] = hi; chas_[ch] = 1; }
      else { cmin_[ch] = std::min(cmin_[ch], lo); cmax_[ch] = std::max(cmax_[ch], hi); }
      if (!has_range_) { min_ = lo; max_ = hi; has_range_ = true; }
      else { min_ = std::min(min_, lo); max_ = std::max(max_, hi); }
    }
  }
  count_ += n;
  return Status::Ok();
}

Status MinMaxObserver::merge(const MinMaxObserver& o) {
  if (o.axis_ != axis_) return invalid_argument("MinMaxObserver::merge: different axes");
  if (axis_ >= 0 && !o.chas_.empty()) {
    if (chas_.empty()) {
      cmin_ = o.cmin_; cmax_ = o.cmax_; chas_ = o.chas_;
    } else {
      if (o.cmin_.size() != cmin_.size()) return invalid_argument("MinMaxObserver::merge: channel counts differ");
      for (size_t c = 0; c < cmin_.size(); ++c) {
        if (!o.chas_[c]) continue;
        if (!chas_[c]) { cmin_[c] = o.cmin_[c]; cmax_[c] = o.cmax_[c]; chas_[c] = 1; }
        else { cmin_[c] = std::min(cmin_[c], o.cmin_[c]); cmax_[c] = std::max(cmax_[c], o.cmax_[c]); }
      }
    }
  }
  if (o.has_range_) {
    if (!has_range_) { min_ = o.min_; max_ = o.max_; }
    else { min_ = std::min(min_, o.min_); max_ = std::max(max_, o.max_); }
    has_range_ = true;
  }
  count_ += o.count_;
  nan_ += o.nan_;
  inf_ += o.inf_;
  return Status::Ok();
}

// ---- HistogramObserver ----------------------------------------------------------------------------------------

HistogramObserver::HistogramObserver(int bins_per_side) {
  int b = std::clamp(bins_per_side, 8, 65536);
  bins_ = 1 << log2_int(b);
  hist_.assign(static_cast<size_t>(2 * bins_), 0);
}

double HistogramObserver::range() const { return has_range_ ? std::ldexp(1.0, exponent_) : 0.0; }
double HistogramObserver::bin_width() const { return has_range_ ? std::ldexp(1.0, exponent_) / bins_ : 0.0; }

uint64_t HistogramObserver::finite_count() const {
  uint64_t s = zeros_;
  for (uint64_t c : hist_) s += c;
  return s;
}

void HistogramObserver::grow_to(int exponent) {
  int steps = std::min(exponent - exponent_, log2_int(bins_) + 2);
  for (int s = 0; s < steps; ++s) {
    std::vector<uint64_t> h(hist_.size(), 0);
    // Signed bin k merges into floor(k / 2); with j = k + bins that is j / 2 + bins / 2.
    for (size_t j = 0; j < hist_.size(); ++j) h[j / 2 + bins_ / 2] += hist_[j];
    hist_.swap(h);
  }
  exponent_ = exponent;
}

Status HistogramObserver::update(const Tensor& in) {
  Tensor t;
  KW_RETURN_IF_ERROR(as_float(in, &t));
  return update(t.data<float>(), t.numel());
}

Status HistogramObserver::update(const float* x, int64_t n) {
  float lo = INFINITY, hi = -INFINITY, amax = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      amax = std::max(amax, std::fabs(v));
    } else if (std::isnan(v)) {
      ++nan_;
    } else {
      ++inf_;
    }
  }
  if (lo <= hi) {
    if (!has_finite_) { min_ = lo; max_ = hi; }
    else { min_ = std::min(min_, lo); max_ = std::max(max_, hi); }
    has_finite_ = true;
  }
  if (amax > 0.f) {
    int e;
    std::frexp(static_cast<double>(amax), &e);  // amax in [2^(e-1), 2^e)
    if (!has_range_) {
      exponent_ = e;
      has_range_ = true;
    } else if (e > exponent_) {
      grow_to(e);
    }
  }
  const double s = has_range_ ? std::ldexp(1.0, log2_int(bins_) - exponent_) : 0.0;
  const int64_t b = bins_;
  uint64_t* h = hist_.data();
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!std::isfinite(v)) continue;
    if (v == 0.f) {
      ++zeros_;
      continue;
    }
    int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(v) * s));  // exact: power-of-two scaling
    ++h[k + b];
  }
  return Status::Ok();
}

Status HistogramObserver::merge(const HistogramObserver& o) {
  if (o.bins_ != bins_)
    return invalid_argument("HistogramObserver::merge: " + std::to_string(o.bins_) + " vs " +
                            std::to_string(bins_) + " bins per side");
  if (o.has_finite_) {
    if (!has_finite_) { min_ = o.min_; max_ = o.max_; }
    else { min_ = std::min(min_, o.min_); max_ = std::max(max_, o.max_); }
    has_finite_ = true;
  }
  zeros_ += o.zeros_;
  nan_ += o.nan_;
  inf_ += o.inf_;
  if (!o.has_range_) return Status::Ok();
  if (!has_range_) {
    hist_ = o.hist_;
    exponent_ = o.exponent_;
    has_range_ = true;
    return Status::Ok();
  }
  HistogramObserver other = o;
  if (other.exponent_ > exponent_) grow_to(other.exponent_);
  else if (other.exponent_ < exponent_) other.grow_to(exponent_);
  for (size_t j = 0; j < hist_.size(); ++j) hist_[j] += other.hist_[j];
  return Status::Ok();
}

std::vector<double> HistogramObserver::abs_histogram() const {
  std::vector<double> a(static_cast<size_t>(bins_), 0.0);
  for (int j = 0; j < bins_; ++j)
    a[j] = static_cast<double>(hist_[bins_ + j]) + static_cast<double>(hist_[bins_ - 1 - j]);
  a[0] += static_cast<double>(zeros_);
  return a;
}

}  // namespace kaiwu::calib
