#include "calib/calibrate.h"

#include <algorithm>
#include <set>

#include "core/parallel.h"

namespace kaiwu::calib {

const TensorStats* Statistics::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Status collect_statistics(runtime::GraphExecutor& float_model, CalibrationDataset& data,
                          const std::vector<std::string>& tensor_names, ObserverKind kind, Statistics* out,
                          ProgressFn progress) {
  CollectOptions o;
  o.kind = kind;
  return collect_statistics(float_model, data, tensor_names, o, out, std::move(progress));
}

Status collect_statistics(runtime::GraphExecutor& float_model, CalibrationDataset& data,
                          const std::vector<std::string>& tensor_names, const CollectOptions& options,
                          Statistics* out, ProgressFn progress) {
  if (data.size() == 0) return invalid_argument("calibration: the dataset has no samples");
  if (options.skip.size() >= data.size()) return invalid_argument("calibration: every sample is held out");
  const ir::Graph& g = float_model.model().graph;
  std::set<std::string> known;
  std::vector<std::string> all;
  for (const auto& in : g.inputs) {
    known.insert(in.name);
    all.push_back(in.name);
  }
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs)
      if (!o.empty()) {
        known.insert(o);
        all.push_back(o);
      }
  for (const auto& kv : g.initializers) known.insert(kv.first);
  const bool auto_mode = tensor_names.empty();
  std::vector<std::string> names = auto_mode ? all : tensor_names;
  std::string unknown;
  int n_unknown = 0;
  for (const auto& n : names)
    if (!known.count(n)) {
      if (n_unknown++ < 10) unknown += (unknown.empty() ? "'" : ", '") + n + "'";
    }
  if (n_unknown)
    return not_found("calibration: " + std::to_string(n_unknown) + " tensor name(s) not in the graph: " + unknown +
                     (n_unknown > 10 ? ", ..." : ""));

  Statistics st;
  st.kind = options.kind;
  const size_t total = data.size();
  NamedTensors feeds;
  std::vector<Tensor> results;
  bool first = true;
  size_t observed = 0;
  for (size_t i = 0; i < total; ++i) {
    if (std::binary_search(options.skip.begin(), options.skip.end(), i)) {
      if (progress) progress(i + 1, total);
      continue;
    }
    std::string where = "calibration sample " + std::to_string(i);
    std::string f = data.file(i, 0);
    if (!f.empty()) where += " ('" + f + "')";
    KW_RETURN_IF_ERROR(data.sample(i, &feeds));
    KW_RETURN_IF_ERROR(float_model.run(feeds, names, &results).with_context(where));
    if (results.size() != names.size())
      return internal_error(where + ": the model returned " + std::to_string(results.size()) + " tensors for " +
                            std::to_string(names.size()) + " requested");
    if (first) {
      first = false;
      // Fix the observed set: in auto mode only float tensors; explicit names must be numeric.
      std::vector<std::string> kept;
      std::vector<Tensor> kept_results;
      for (size_t k = 0; k < names.size(); ++k) {
        DType d = results[k].dtype();
        if (auto_mode && !dtype_is_float(d)) continue;
        if (d == DType::kBool || d == DType::kUndefined)
          return invalid_argument("calibration: tensor '" + names[k] + "' is " + dtype_name(d) +
                                  ", not numeric; it cannot be calibrated");
        kept.push_back(names[k]);
        kept_results.push_back(results[k]);
        TensorStats ts;
        ts.name = names[k];
        if (options.per_channel_axis >= 0 && results[k].rank() > options.per_channel_axis)
          ts.minmax = MinMaxObserver(options.per_channel_axis);
        if (options.kind == ObserverKind::kHistogram) ts.hist.emplace(options.histogram_bins);
        st.tensors.push_back(std::move(ts));
      }
      names.swap(kept);
      results.swap(kept_results);
    }
    // Observers are independent: update them in parallel (each one sequentially, so results are deterministic).
    std::vector<Status> errs(names.size());
    parallel_for(static_cast<int64_t>(names.size()), 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        TensorStats& ts = st.tensors[k];
        Status s = ts.minmax.update(results[k]);
        if (s.ok() && ts.hist) s = ts.hist->update(results[k]);
        errs[k] = s;
      }
    });
    for (size_t k = 0; k < names.size(); ++k)
      if (!errs[k].ok()) return errs[k].with_context(where + ", tensor '" + names[k] + "'");
    if (options.on_sample) KW_RETURN_IF_ERROR(options.on_sample(i, names, results).with_context(where));
    st.num_samples = ++observed;
    if (progress) progress(i + 1, total);
  }
  *out = std::move(st);
  return Status::Ok();
}

Status make_calibration_table(const Statistics& stats, const SelectOptions& options, CalibrationTable* out) {
  CalibrationTable t;
  t.num_samples = stats.num_samples;
  t.calibration_type = range_method_name(options.method);
  for (const auto& ts : stats.tensors) {
    TensorRange r;
    KW_RETURN_IF_ERROR(select_range(ts.hist ? &*ts.hist : nullptr, &ts.minmax, options, &r)
                           .with_context("tensor '" + ts.name + "'"));
    CalibrationEntry e;
    e.min = r.min;
    e.max = r.max;
    e.threshold = r.threshold;
    e.method = r.method;
    const TensorRange observed = select_max(ts.minmax);  // unclipped, for int16 tensors
    e.observed_min = observed.min;
    e.observed_max = observed.max;
    if (ts.minmax.axis() >= 0) {
      e.channel_axis = ts.minmax.axis();
      e.channel_min = ts.minmax.channel_min();
      e.channel_max = ts.minmax.channel_max();
    }
    t.tensors[ts.name] = std::move(e);
  }
  *out = std::move(t);
  return Status::Ok();
}

}  // namespace kaiwu::calib
