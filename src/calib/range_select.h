// Range selection: pure functions from an observer's statistics to a float range for quantization.
//
// Every selector returns finite values with min <= max and threshold = max(|min|, |max|) (the symmetric range).
// Degenerate statistics are safe: no finite value (empty, all NaN/Inf) or all zeros give min = max = threshold = 0,
// which qmath::choose_qparams (and range_qparams below) turns into scale 1 — every value then quantizes to the zero
// point and dequantizes to exactly 0; a single repeated value v gives [v, v] (widened to contain 0 by qparams).
#pragma once
#include <string>

#include "calib/observer.h"
#include "core/qmath.h"

namespace kaiwu::calib {

struct TensorRange {
  float min = 0.f, max = 0.f;
  float threshold = 0.f;  // max(|min|, |max|)
  std::string method;     // "max", "max_percentile=0.99999", "percentile=0.9999", "kl", "mse"
};

enum class RangeMethod { kMax, kPercentile, kKl, kMse };

// "max", "percentile", "kl", "mse" (also "entropy" for kl). False for anything else.
bool parse_range_method(const std::string& s, RangeMethod* out);
const char* range_method_name(RangeMethod m);

struct SelectOptions {
  RangeMethod method = RangeMethod::kMax;
  double max_percentile = 1.0;    // kMax: percentile of |x| in (0, 1]; 1 = exact min/max
  double percentile = 0.99999;    // kPercentile: two-sided quantile in (0.5, 1]
  int kl_levels = 128;            // kKl: quantized levels of |x| (127/128 for int8)
  qmath::QType qtype = qmath::QType::kInt8;  // kMse: target type (int8 / int16 and unsigned variants)
};

// Exact min/max of the observed finite values.
TensorRange select_max(const MinMaxObserver& mm);
// max_percentile >= 1: exact min/max. Otherwise the max_percentile quantile of |x| (upper bin edge, never above
// the exact max |x|) clips both ends.
TensorRange select_max(const HistogramObserver& h, double max_percentile = 1.0);
// Two-sided: max = the p quantile, min = the 1-p quantile of the signed values (bin edges, clamped to the exact
// min/max), so at most a (1-p) fraction of the values lies above max and the same below min.
TensorRange select_percentile(const HistogramObserver& h, double p);
// Entropy calibration: the threshold T on |x| minimising KL(P || Q), P = the histogram clipped at T (outliers
// added to the last bin), Q = P quantized into `levels` levels and expanded back. Candidates are every bin edge
// from `levels` bins up to the last non-empty bin; histograms with at most `levels` non-empty bins keep max |x|.
// Exact zeros are left out (they quantize exactly; counted in, ReLU zeros pull the threshold far down).
TensorRange select_kl(const HistogramObserver& h, int levels = 128);
// The symmetric threshold T minimising the expected squared error of quantizing to `t` with scale T / qmax:
// clipping error (|x| - T)^2 above T plus the uniform rounding error step^2 / 12 below it (exact zeros: 0).
TensorRange select_mse(const HistogramObserver& h, qmath::QType t = qmath::QType::kInt8);

// Dispatches on options.method. `h` may be null for kMax with max_percentile >= 1 (then `mm` is used); the
// histogram methods need `h` (error otherwise). Errors also for out-of-range percentiles.
Status select_range(const HistogramObserver* h, const MinMaxObserver* mm, const SelectOptions& options,
                    TensorRange* out);

// Quantization parameters for a selected range: symmetric schemes use [-threshold, threshold], asymmetric ones
// [min, max]. Always a finite scale > 0 (see qmath::choose_qparams).
Status range_qparams(const TensorRange& r, qmath::QType t, qmath::QScheme scheme, qmath::QParams* out);

}  // namespace kaiwu::calib
