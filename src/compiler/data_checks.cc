#include "compiler/data_checks.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace kaiwu::compiler {

Status input_data_stats(const calib::CalibrationDataset& data, size_t k, size_t max_samples, InputDataStats* out) {
  *out = InputDataStats();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < data.size() && i < max_samples; ++i) {
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(data.sample(i, &feeds));
    if (k >= feeds.size()) return invalid_argument("input_data_stats: no input " + std::to_string(k));
    const Tensor& t = feeds[k].second;
    for (int64_t j = 0; j < t.numel(); ++j) {
      const double v = t.get_f64(j);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    count += t.numel();
    ++out->samples;
  }
  if (count) out->min = lo, out->max = hi, out->mean = sum / static_cast<double>(count);
  return Status::Ok();
}

Status check_double_normalization(const config::CompileConfig& cfg, const calib::CalibrationDataset& data,
                                  std::vector<std::string>* warnings) {
  for (size_t k = 0; k < cfg.inputs.size() && k < data.inputs().size(); ++k) {
    const config::InputParameters& in = cfg.inputs[k];
    const bool norm = !in.mean.empty() || !in.scale.empty() || !in.std.empty();
    if (!norm || in.norm_type == "no_preprocess" || in.type_rt == "featuremap") continue;
    // The range the yaml's normalization gives 0..255 pixels, over the channels.
    const size_t nc = std::max({in.mean.size(), in.scale.size(), in.std.size(), size_t{1}});
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (size_t c = 0; c < nc; ++c) {
      auto at = [&](const std::vector<double>& v, double def) { return v.empty() ? def : v[std::min(c, v.size() - 1)]; };
      const double m = at(in.mean, 0.0);
      const double s = !in.scale.empty() ? at(in.scale, 1.0) : 1.0 / at(in.std, 1.0);
      const double a = (0 - m) * s, b = (255 - m) * s;
      lo = std::min({lo, a, b});
      hi = std::max({hi, a, b});
    }
    InputDataStats st;
    KW_RETURN_IF_ERROR(input_data_stats(data, k, 20, &st));
    const double slack = 0.1 * (hi - lo);
    if (st.samples == 0 || (st.min >= lo - slack && st.max <= hi + slack)) continue;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "min %.4g, max %.4g, mean %.4g over %zu sample(s); the yaml's normalization maps 0..255 pixels to "
                  "[%.4g, %.4g]",
                  st.min, st.max, st.mean, st.samples, lo, hi);
    const std::string name = in.name.empty() ? data.inputs()[k].name : in.name;
    const bool raw = st.min >= -0.5 && st.max > 5;
    warnings->push_back(
        "input " + name + ": the calibration data does not look normalized by the yaml's mean_value/scale_value/"
        "std_value (" + buf + "). The ONNX stage models take the data as it is and the deployable model applies "
        "the yaml normalization to the 0..255 runtime frames before them" +
        (raw ? ", so with data that looks like raw pixels the model is probably normalized twice (the yaml "
               "normalization and the model's own)"
             : "") +
        ". Either give calibration data normalized exactly like the training data (and mean_value = 255*m, "
        "scale_value = 1/(255*s) for a training normalization (x/255 - m)/s), or, when the model itself normalizes "
        "its 0..255 input, drop mean_value/scale_value/std_value (norm_type: no_preprocess)");
  }
  return Status::Ok();
}

}  // namespace kaiwu::compiler
