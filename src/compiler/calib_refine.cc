// Calibration refinements (compiler/calib_refine.h): options, the compile hooks, and the judging of each refinement
// by the output cosine of the fixed-point model (layer statistics, bias correction, AdaRound: calib_layers.cc).
#include "compiler/calib_refine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include <yaml-cpp/yaml.h>

#include "compiler/eval.h"
#include "compiler/pipeline.h"
#include "ir/graph_edit.h"
#include "core/parallel.h"
#include "quant/fixed_point.h"
#include "quant/refine.h"

namespace kaiwu::compiler {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status parse_mode(const YAML::Node& v, const std::string& key, RefineMode* out) {
  if (!v.IsScalar()) return invalid_argument(key + ": expected true, false or \"auto\"");
  const std::string s = lower(v.as<std::string>());
  if (s == "true" || s == "on" || s == "yes" || s == "1") *out = RefineMode::kOn;
  else if (s == "false" || s == "off" || s == "no" || s == "0") *out = RefineMode::kOff;
  else if (s == "auto") *out = RefineMode::kAuto;
  else return invalid_argument(key + ": unknown value '" + v.as<std::string>() + "' (true, false, auto)");
  return Status::Ok();
}

Status parse_positive(const YAML::Node& v, const std::string& key, int lo, int hi, int* out) {
  int x = 0;
  try {
    x = v.as<int>();
  } catch (const YAML::Exception&) {
    return invalid_argument(key + ": expected an integer, got '" + (v.IsScalar() ? v.as<std::string>() : "?") + "'");
  }
  if (x < lo || x > hi)
    return invalid_argument(key + ": " + std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "]");
  *out = x;
  return Status::Ok();
}

// The per-channel axis insert_qdq gives the weight of node n (Conv 0, Gemm 0 / 1 by transB), or -1.
const Tensor* weight_of(const ir::Graph& g, const ir::Node& n) {
  if (!n.has_input(1)) return nullptr;
  auto it = g.initializers.find(n.inputs[1]);
  return it == g.initializers.end() || it->second.dtype() != DType::kF32 ? nullptr : &it->second;
}

// The layer geometry from the node and its weight; input dims filled later from the first sample.

}  // namespace

Status refine_options(const config::CompileConfig& cfg, RefineOptions* out) {
  RefineOptions o;
  const std::string& js = cfg.calibration.quant_config_json;
  if (!js.empty()) {
    const std::string key = "calibration_parameters.quant_config.model_config";
    YAML::Node qc;
    try {
      qc = YAML::Load(js);
    } catch (const YAML::Exception& e) {
      return invalid_argument("calibration_parameters.quant_config: " + std::string(e.what()));
    }
    const YAML::Node mc = qc.IsMap() ? qc["model_config"] : YAML::Node();
    if (mc && mc.IsMap()) {
      if (const YAML::Node cle = mc["cross_layer_equalization"]) {
        RefineMode m;
        KW_RETURN_IF_ERROR(parse_mode(cle, key + ".cross_layer_equalization", &m));
        if (m == RefineMode::kAuto)
          return invalid_argument(key + ".cross_layer_equalization: expected true or false ('auto' is not "
                                        "supported: equalization changes the float model before calibration)");
        o.cle = m == RefineMode::kOn;
      }
      const YAML::Node wt = mc["weight"];
      if (wt && !wt.IsMap()) return invalid_argument(key + ".weight: expected a map");
      if (wt) {
        if (const YAML::Node ct = wt["calibration_type"]) {
          const std::string s = ct.IsScalar() ? lower(ct.as<std::string>()) : "";
          if (s == "max") o.weight_mse = RefineMode::kOff;
          else if (s == "mse") o.weight_mse = RefineMode::kOn;
          else if (s == "auto") o.weight_mse = RefineMode::kAuto;
          else return invalid_argument(key + ".weight.calibration_type: unknown value '" + s + "' (max, mse, auto)");
        }
        if (const YAML::Node bc = wt["bias_correction"])
          KW_RETURN_IF_ERROR(parse_mode(bc, key + ".weight.bias_correction", &o.bias_correction));
        if (const YAML::Node ar = wt["adaround"]) {
          if (ar.IsMap()) {
            o.adaround = RefineMode::kOn;
            if (ar["enable"]) KW_RETURN_IF_ERROR(parse_mode(ar["enable"], key + ".weight.adaround.enable", &o.adaround));
            if (ar["patches"])
              KW_RETURN_IF_ERROR(parse_positive(ar["patches"], key + ".weight.adaround.patches", 16, 65536,
                                                &o.adaround_patches));
            if (ar["passes"])
              KW_RETURN_IF_ERROR(parse_positive(ar["passes"], key + ".weight.adaround.passes", 1, 100,
                                                &o.adaround_passes));
          } else {
            KW_RETURN_IF_ERROR(parse_mode(ar, key + ".weight.adaround", &o.adaround));
          }
        }
      }
    }
  }
  *out = o;
  return Status::Ok();
}

Status prepare_float_model(const config::CompileConfig& cfg, ir::Model* optimized, Log* log) {
  RefineOptions o;
  KW_RETURN_IF_ERROR(refine_options(cfg, &o));
  ir::Graph& g = optimized->graph;
  if (o.cle) {
    quant::CleReport r;
    KW_RETURN_IF_ERROR(quant::equalize_cross_layer(optimized, &r).with_context("cross-layer equalization"));
    log->info("cross_layer_equalization: " + std::to_string(r.pairs) + " Conv->Relu->Conv pair(s) equalized in " +
              std::to_string(r.rounds) + " sweep(s), mean |log(range ratio)| " + fmt(r.imbalance_before, 3) +
              " -> " + fmt(r.imbalance_after, 3) +
              (r.skipped_clip ? "; " + std::to_string(r.skipped_clip) +
                                    " pair(s) with a Clip/Relu6 between skipped (a per-channel clip would be needed)"
                              : ""));
  }
  if (o.bias_correction != RefineMode::kOff) {
    int added = 0;
    for (auto& n : g.nodes) {
      if ((n.op_type != "Conv" && n.op_type != "Gemm") || !n.domain.empty() || n.has_input(2)) continue;
      const Tensor* w = weight_of(g, n);
      if (!w || w->rank() < 2) continue;
      int64_t m = w->dim(0);
      if (n.op_type == "Gemm") {
        if (w->rank() != 2) continue;
        m = n.attr_int("transB", 0) ? w->dim(0) : w->dim(1);
      }
      const std::string b = ir::unique_value_name(g, n.inputs[1] + "_bias");
      g.initializers[b] = Tensor::zeros(DType::kF32, {m});
      n.inputs.resize(3);
      n.inputs[2] = b;
      ++added;
    }
    if (added && log) log->info("bias correction: zero bias added to " + std::to_string(added) + " Conv/Gemm node(s)");
  }
  return Status::Ok();
}

namespace {

// The options with "auto" turned off where it cannot be judged (given scales, random data).
Status effective_options(const config::CompileConfig& cfg, RefineOptions* o) {
  KW_RETURN_IF_ERROR(refine_options(cfg, o));
  const std::string& ctype = cfg.calibration.calibration_type;
  bool real_data = !cfg.inputs.empty();
  for (const auto& in : cfg.inputs) real_data = real_data && !in.cal_data_dir.empty();
  if (ctype == "load" || ctype == "skip" || !real_data)
    for (RefineMode* m : {&o->weight_mse, &o->bias_correction, &o->adaround})
      if (*m == RefineMode::kAuto) *m = RefineMode::kOff;
  return Status::Ok();
}

}  // namespace

Status LayerCollector::init_for(const config::CompileConfig& cfg, const ir::Model& m, size_t samples) {
  RefineOptions o;
  KW_RETURN_IF_ERROR(effective_options(cfg, &o));
  active_ = false;
  if (o.bias_correction == RefineMode::kOff && o.adaround == RefineMode::kOff) return Status::Ok();
  init(m, samples, o.adaround != RefineMode::kOff ? o.adaround_patches : 0);
  return Status::Ok();
}

namespace {

// Builds the QDQ and fixed-point models for options `q` and returns the mean output cosine vs the float model
// (whose outputs on the evaluation samples are computed once).
struct Judge {
  const ir::Model& optimized;
  runtime::GraphExecutor& float_exec;
  const calib::CalibrationDataset& data;
  const std::vector<size_t>& samples;
  std::map<std::string, quant::TensorRange> ranges;
  std::vector<std::string> outputs;
  std::vector<std::vector<Tensor>> ref;  // per sample, the float outputs

  Status run(const quant::QuantOptions& q, double* cos, ir::Model* qdq, quant::QuantReport* rep) {
    *qdq = optimized;
    KW_RETURN_IF_ERROR(quant::insert_qdq(*qdq, ranges, q, rep));
    ir::Model fixed;
    KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(*qdq, &fixed, nullptr));
    KW_RETURN_IF_ERROR(quant::expose_dequantized(*qdq, outputs, &fixed));
    SessionOptions so;
    so.optimize = false;
    std::unique_ptr<runtime::GraphExecutor> exec;
    KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(fixed, so, &exec));
    NamedTensors feeds;
    if (ref.empty())
      for (size_t i : samples) {
        KW_RETURN_IF_ERROR(data.sample(i, &feeds));
        std::vector<Tensor> a;
        KW_RETURN_IF_ERROR(float_exec.run(feeds, outputs, &a).with_context("float model, sample " + std::to_string(i)));
        for (auto& t : a) t = t.clone();
        ref.push_back(std::move(a));
      }
    std::vector<Cosine> c(outputs.size());
    for (size_t si = 0; si < samples.size(); ++si) {
      KW_RETURN_IF_ERROR(data.sample(samples[si], &feeds));
      std::vector<Tensor> b;
      KW_RETURN_IF_ERROR(exec->run(feeds, outputs, &b).with_context("refined model, sample " +
                                                                    std::to_string(samples[si])));
      for (size_t k = 0; k < outputs.size(); ++k) c[k].add(ref[si][k], b[k]);
    }
    double s = 0;
    for (const auto& x : c) s += x.value();
    *cos = outputs.empty() ? 0 : s / outputs.size();
    return Status::Ok();
  }
};

const char* mode_name(RefineMode m) { return m == RefineMode::kOn ? "on" : m == RefineMode::kAuto ? "auto" : "off"; }

}  // namespace

Status refine_weights(const config::CompileConfig& cfg, const ir::Model& optimized, runtime::GraphExecutor& float_exec,
                      const calib::CalibrationDataset& data, const std::vector<size_t>& held_out,
                      const std::vector<size_t>& eval_samples, const calib::CalibrationTable& table,
                      LayerCollector* pre, quant::QuantOptions* qopt, ir::Model* qdq, quant::QuantReport* report,
                      Log* log) {
  RefineOptions o;
  KW_RETURN_IF_ERROR(effective_options(cfg, &o));  // "auto" is off with given scales or random data
  if (!qopt->quantize_weights) return Status::Ok();
  if (o.weight_mse == RefineMode::kOff && o.bias_correction == RefineMode::kOff && o.adaround == RefineMode::kOff)
    return Status::Ok();
  const auto t0 = Clock::now();
  Judge judge{optimized, float_exec, data, eval_samples, {}, {}, {}};
  judge.ranges = quant_ranges(table);
  for (const auto& v : optimized.graph.outputs) judge.outputs.push_back(v.name);
  log->info("calibration refinements (weight calibration_type " +
            std::string(o.weight_mse == RefineMode::kOn ? "mse" : o.weight_mse == RefineMode::kAuto ? "auto" : "max") +
            ", bias_correction " + mode_name(o.bias_correction) + ", adaround " + mode_name(o.adaround) +
            "), judged by the output cosine of the fixed-point model over " + std::to_string(eval_samples.size()) +
            " evaluation samples:");
  quant::QuantOptions cur = *qopt;
  double cur_cos = 0;
  ir::Model cur_model;
  quant::QuantReport cur_rep;
  KW_RETURN_IF_ERROR(judge.run(cur, &cur_cos, &cur_model, &cur_rep));
  const double base_cos = cur_cos;
  log->info("  baseline (max weight ranges, nearest rounding): output cosine " + fmt(cur_cos));
  bool changed = false;
  auto consider = [&](const std::string& what, RefineMode mode, const quant::QuantOptions& cand,
                      const std::string& extra) -> Status {
    double c = 0;
    ir::Model mdl;
    quant::QuantReport rep;
    KW_RETURN_IF_ERROR(judge.run(cand, &c, &mdl, &rep));
    const bool keep = mode == RefineMode::kOn || c > cur_cos + 1e-7;
    log->info("  " + what + ": output cosine " + fmt(cur_cos) + " -> " + fmt(c) + " (" +
              (keep ? mode == RefineMode::kOn ? "kept: on" : "kept: better" : "dropped: not better") + ")" + extra);
    if (keep) {
      cur = cand;
      cur_cos = c;
      cur_model = std::move(mdl);
      cur_rep = std::move(rep);
      changed = true;
    }
    return Status::Ok();
  };
  if (o.weight_mse != RefineMode::kOff) {
    quant::QuantOptions cand = cur;
    cand.weight_range = quant::WeightRange::kMse;
    KW_RETURN_IF_ERROR(consider("weight ranges mse", o.weight_mse, cand, ""));
  }
  if (o.bias_correction != RefineMode::kOff || o.adaround != RefineMode::kOff) {
    const auto t = Clock::now();
    std::vector<LayerStats> stats;
    size_t nsamples = 0;
    const bool from_pre = pre && pre->active();
    if (from_pre) {
      nsamples = pre->samples();
      stats = pre->take();
    } else {
      std::vector<size_t> samples;
      for (size_t i = 0; i < data.size(); ++i)
        if (!std::binary_search(held_out.begin(), held_out.end(), i)) samples.push_back(i);
      KW_RETURN_IF_ERROR(collect_layer_stats(optimized, float_exec, data, samples,
                                             o.adaround != RefineMode::kOff ? o.adaround_patches : 0, &stats));
      nsamples = samples.size();
    }
    log->info("  layer statistics: " + std::to_string(stats.size()) + " Conv/Gemm layers over " +
              std::to_string(nsamples) + " calibration samples (" +
              (from_pre ? "gathered during calibration" : fmt(seconds_since(t), 2) + " s") +
              ")");
    if (o.adaround != RefineMode::kOff) {
      const auto ta = Clock::now();
      quant::QuantOptions cand = cur;
      double before = 0, after = 0;
      KW_RETURN_IF_ERROR(adaround_weights(optimized, stats, cur, o.bias_correction != RefineMode::kOff,
                                          o.adaround_passes, &cand.given_weights, &before, &after));
      int skipped = 0;
      for (const auto& L : stats) skipped += L.hsum.empty();
      KW_RETURN_IF_ERROR(consider("adaround (" + std::to_string(cand.given_weights.size()) + " layers, " +
                                      std::to_string(skipped) + " skipped)",
                                  o.adaround, cand,
                                  "; layer output error sum " + fmt(before, 6) + " -> " + fmt(after, 6) + ", " +
                                      fmt(seconds_since(ta), 2) + " s"));
    }
    if (o.bias_correction != RefineMode::kOff) {
      quant::QuantOptions cand = cur;
      KW_RETURN_IF_ERROR(bias_corrections(optimized, stats, cur, &cand.bias_delta));
      double mean_abs = 0;
      size_t cnt = 0;
      for (const auto& kv : cand.bias_delta)
        for (float v : kv.second) mean_abs += std::fabs(v), ++cnt;
      KW_RETURN_IF_ERROR(consider("bias correction (" + std::to_string(cand.bias_delta.size()) + " layers)",
                                  o.bias_correction, cand,
                                  "; mean |correction| " + fmt(cnt ? mean_abs / cnt : 0.0, 6)));
    }
  }
  log->info("  calibration refinements: output cosine " + fmt(base_cos) + " -> " + fmt(cur_cos) + " (" +
            fmt(seconds_since(t0), 2) + " s)");
  if (changed) {
    *qopt = std::move(cur);
    *qdq = std::move(cur_model);
    if (report) *report = std::move(cur_rep);
  }
  return Status::Ok();
}

}  // namespace kaiwu::compiler
