// Streaming statistics of activation tensors, deterministic and with bounded memory.
//
// Every observer gives the same bits whatever the batch split, the order of batches and the thread count: min/max
// are exact, histogram counts are integers, and the histogram range only grows by exact bin merging.
// NaN and +-Inf are never part of a range or a histogram; they are counted (nan_count / inf_count).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::calib {

// Running min/max, per tensor or per channel along `axis`.
class MinMaxObserver {
 public:
  // axis < 0 (default): per tensor. axis >= 0: per channel along that axis (the channel count is fixed by the
  // first update; later tensors must agree).
  explicit MinMaxObserver(int axis = -1) : axis_(axis) {}
  // Adds a numeric tensor (converted to float). Errors: bool tensor, rank <= axis, channel count changed.
  Status update(const Tensor& t);
  // Combines another observer of the same configuration (used to merge per-thread partial statistics).
  Status merge(const MinMaxObserver& o);

  int axis() const { return axis_; }
  bool has_range() const { return has_range_; }  // false until a finite value was seen
  float min() const { return min_; }              // per-tensor min/max of finite values (0 when none)
  float max() const { return max_; }
  const std::vector<float>& channel_min() const { return cmin_; }  // per channel (axis >= 0 only)
  const std::vector<float>& channel_max() const { return cmax_; }
  int64_t count() const { return count_; }  // elements seen, including NaN/Inf
  int64_t nan_count() const { return nan_; }
  int64_t inf_count() const { return inf_; }

 private:
  int axis_;
  bool has_range_ = false;
  float min_ = 0.f, max_ = 0.f;
  std::vector<float> cmin_, cmax_;
  std::vector<char> chas_;
  int64_t count_ = 0, nan_ = 0, inf_ = 0;
};

// Histogram of the finite non-zero values over [-R, R) with R = 2^exponent (the smallest power of two above the
// largest |x| seen) and 2 * bins_per_side bins of width R / bins_per_side; exact zeros are counted separately.
// When a batch exceeds R, R doubles as often as needed and pairs of adjacent bins merge, so the result equals the
// histogram built from all the data at once, bit for bit. Also tracks the exact min/max.
class HistogramObserver {
 public:
  // bins_per_side must be a power of two in [8, 65536] (clamped/rounded up otherwise).
  explicit HistogramObserver(int bins_per_side = 2048);
  Status update(const Tensor& t);
  Status update(const float* x, int64_t n);
  // Combines another histogram with the same bins_per_side (error otherwise).
  Status merge(const HistogramObserver& o);

  int bins_per_side() const { return bins_; }
  bool has_range() const { return has_range_; }   // a finite non-zero value was seen
  int exponent() const { return exponent_; }       // R = 2^exponent (meaningful when has_range)
  double range() const;                            // R (0 when !has_range)
  double bin_width() const;                        // R / bins_per_side (0 when !has_range)
  // Signed bins: index j in [0, 2*bins) covers [(j - bins) * w, (j - bins + 1) * w).
  const std::vector<uint64_t>& bins() const { return hist_; }
  // |x| histogram folded from the signed one: index j covers [j * w, (j + 1) * w]; bin 0 includes the zeros.
  std::vector<double> abs_histogram() const;
  uint64_t zero_count() const { return zeros_; }
  uint64_t finite_count() const;  // zeros + binned values
  float min() const { return min_; }  // exact min/max of finite values (0 when none)
  float max() const { return max_; }
  bool has_finite() const { return has_finite_; }
  int64_t nan_count() const { return nan_; }
  int64_t inf_count() const { return inf_; }

 private:
  void grow_to(int exponent);

  int bins_;
  bool has_range_ = false, has_finite_ = false;
  int exponent_ = 0;
  std::vector<uint64_t> hist_;
  uint64_t zeros_ = 0;
  float min_ = 0.f, max_ = 0.f;
  int64_t nan_ = 0, inf_ = 0;
};

}  // namespace kaiwu::calib
