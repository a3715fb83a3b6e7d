// Checks of the calibration data against the yaml (issue 4): the double-normalization guard.
#pragma once
#include <string>
#include <vector>

#include "calib/dataset.h"
#include "config/compile_config.h"
#include "kaiwu/status.h"

namespace kaiwu::compiler {

struct InputDataStats {
  double min = 0, max = 0, mean = 0;
  size_t samples = 0;
};

// The statistics of input `k` of `data` over its first `max_samples` samples.
Status input_data_stats(const calib::CalibrationDataset& data, size_t k, size_t max_samples, InputDataStats* out);

// The double-normalization guard. The ONNX stage models (and so the calibration data) take the input exactly as
// the model was trained (spec §6, J6 style); the yaml's mean_value / scale_value / std_value are applied by the
// deployable model to 0..255 runtime frames. For every input with such a normalization (norm_type not
// no_preprocess, input_type_rt not featuremap): a warning when its calibration data (first 20 samples) leaves the
// range the normalization gives 0..255 pixels by more than 10% of that range — typically raw pixels fed to a model
// that normalizes them itself, which the deployable model would normalize twice. One message per input (min, max,
// mean, expected range, what to do) in `warnings`.
Status check_double_normalization(const config::CompileConfig& cfg, const calib::CalibrationDataset& data,
                                  std::vector<std::string>* warnings);

}  // namespace kaiwu::compiler
