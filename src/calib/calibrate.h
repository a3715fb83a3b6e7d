// The calibration driver: runs the float model on every calibration sample and streams the requested tensors
// into observers; then turns the statistics into a calibration table with a range selector.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "calib/calib_table.h"
#include "calib/dataset.h"
#include "calib/observer.h"
#include "calib/range_select.h"
#include "runtime/graph_executor.h"

namespace kaiwu::calib {

enum class ObserverKind { kMinMax, kHistogram };

struct TensorStats {
  std::string name;
  MinMaxObserver minmax;                  // always collected (per channel when CollectOptions::per_channel_axis)
  std::optional<HistogramObserver> hist;  // ObserverKind::kHistogram only
};

struct Statistics {
  ObserverKind kind = ObserverKind::kHistogram;
  size_t num_samples = 0;
  std::vector<TensorStats> tensors;  // in request order
  const TensorStats* find(const std::string& name) const;
};

struct CollectOptions {
  ObserverKind kind = ObserverKind::kHistogram;
  int per_channel_axis = -1;  // >= 0: min/max also per channel along this axis (tensors of rank > axis)
  int histogram_bins = 2048;  // bins per side of zero
  std::vector<size_t> skip;   // sample indices not observed (held out for evaluation), sorted
  // Called after each observed sample with its index and the observed tensors (names and values in the same
  // order); an error stops the collection. Used to gather more statistics in the same pass (calib_refine).
  std::function<Status(size_t sample, const std::vector<std::string>& names, const std::vector<Tensor>& values)>
      on_sample;
};

// Called after each sample: (samples done, total).
using ProgressFn = std::function<void(size_t done, size_t total)>;

// Runs `float_model` (create it with SessionOptions::optimize = false so every ONNX tensor name stays
// observable) on every sample of `data` and streams `tensor_names` into observers. Empty `tensor_names`: every
// graph input and node output, keeping the float ones. Errors: unknown tensor names (listed), a sample that cannot
// be read or run (named with its index and file), an empty dataset. Results do not depend on the thread count.
Status collect_statistics(runtime::GraphExecutor& float_model, CalibrationDataset& data,
                          const std::vector<std::string>& tensor_names, const CollectOptions& options,
                          Statistics* out, ProgressFn progress = nullptr);
Status collect_statistics(runtime::GraphExecutor& float_model, CalibrationDataset& data,
                          const std::vector<std::string>& tensor_names, ObserverKind kind, Statistics* out,
                          ProgressFn progress = nullptr);

// Applies a range selector to every tensor of `stats` (fills entries, per-channel min/max when collected, and
// num_samples; the caller sets fingerprint and calibration_type). Histogram methods need histogram statistics.
Status make_calibration_table(const Statistics& stats, const SelectOptions& options, CalibrationTable* out);

}  // namespace kaiwu::calib
