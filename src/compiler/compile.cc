// The `kaiwu compile` pipeline: config -> original / optimized float stage models -> calibration -> QDQ
// (calibrated / ptq stage models) -> reports. Every file is written into a staging folder first and moved into
// working_dir only when all phases succeeded.
//
// Stage models: P_calibrated_model.onnx = the optimized float model with QuantizeLinear/DequantizeLinear on the
// activations only (weights and biases float), P_ptq_model.onnx = the full QDQ model (int8 per-channel weights,
// int32 biases). Report columns: "Calibrated Cosine" = float vs calibrated (activation quantization alone),
// "Quantized Cosine" = float vs the quantized model run by Kaiwu (see quantized_column_model in Compiler::run).
// Both are computed on the evaluation samples (up to kMaxEvalSamples calibration samples; held out of the
// statistics with `default` on 10 or more samples, see Compiler::run) as the cosine of the concatenated values over all of them (see compiler/eval.h).
#include "kaiwu/compile.h"
#include "kaiwu/version.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "calib/calibrate.h"
#include "compiler/batch_split.h"
#include "compiler/calib_refine.h"
#include "compiler/data_checks.h"
#include "compiler/eval.h"
#include "compiler/load_qparams.h"
#include "compiler/pipeline.h"
#include "compiler/preprocess.h"
#include "compiler/progress.h"
#include "compiler/remove_nodes.h"
#include "compiler/report.h"
#include "config/compile_config.h"
#include "core/file_util.h"
#include "frontend/onnx/onnx_export.h"
#include "kernels/cpu_info.h"
#include "deploy/deployable.h"
#include "passes/passes.h"
#include "perf/cost_model.h"
#include "quant/fixed_point.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;
using compiler::Clock;
using compiler::fmt;
using compiler::seconds_since;

constexpr size_t kMaxEvalSamples = 20;

Status make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("cannot create working_dir '" + dir + "': " + ec.message());
  std::string probe = dir + "/.kaiwu_write_probe";
  Status st = write_file_atomic(probe, "ok");
  if (!st.ok()) return io_error("working_dir '" + dir + "' is not writable: " + st.message());
  ::unlink(probe.c_str());
  return Status::Ok();
}

std::string json_string(const std::string& v) {
  std::string o = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += c;
  }
  return o + "\"";
}

// The compile description stored in the deployable model (shown by `kaiwu info`): tool, march, target, method,
// source model and the normalized yaml.
std::string describe_compile(const config::CompileConfig& cfg, const std::string& target, const std::string& method) {
  return std::string("{\"tool\": \"kaiwu compile\", \"version\": ") + json_string(KAIWU_VERSION_STRING) +
         ", \"march\": " + json_string(cfg.model.march) + ", \"target\": " + json_string(target) +
         ", \"calibration_method\": " + json_string(method) + ", \"onnx_model\": " +
         json_string(cfg.model.onnx_model) + ", \"yaml\": " + json_string(config::config_to_yaml(cfg)) + "}";
}

struct Candidate {
  std::string label;
  calib::SelectOptions select;
  bool load = false;  // calibration_type load: ranges and qparams from load_model
};

class Compiler {
 public:
  explicit Compiler(const CompileOptions& opt) : opt_(opt), log_(opt.echo) {}
  // A failed run leaves nothing behind: the staging folder goes, working_dir keeps what it had.
  ~Compiler() {
    std::error_code ec;
    if (!staging_.empty()) fs::remove_all(staging_, ec);
  }
  Status run(const std::string& yaml, CompileResult* result);

 private:
  Status write(const std::string& name, const std::string& bytes);
  Status save_model(const std::string& name, const ir::Model& m);
  // The calibration table of one candidate (model inputs keep their exact range, see use_exact_input_ranges).
  Status make_table(const calib::Statistics& stats, const Candidate& c, calib::CalibrationTable* table) const;
  // The QDQ model of one candidate; `weights` false gives the activations-only (calibrated) model.
  Status quantize(const calib::CalibrationTable& table, bool weights, ir::Model* qdq, quant::QuantReport* report);
  void use_exact_input_ranges(const calib::Statistics& stats, calib::CalibrationTable* table) const;
  bool tty_progress() const { return opt_.progress && compiler::stderr_is_tty(); }

  CompileOptions opt_;
  compiler::Log log_;
  config::CompileConfig cfg_;
  std::string staging_, prefix_;
  std::vector<std::string> written_;
  ir::Model optimized_;
  quant::QuantOptions qopt_;
  compiler::LoadedQParams loaded_;
};

// Model inputs keep their exact min/max whatever the method: input data (images with a uniform background, a
// spike at one value) is where histogram methods such as KL clip real content away, and the input's range is
// known exactly from the data anyway.
void Compiler::use_exact_input_ranges(const calib::Statistics& stats, calib::CalibrationTable* table) const {
  for (const auto& in : optimized_.graph.inputs) {
    const calib::TensorStats* ts = stats.find(in.name);
    auto it = table->tensors.find(in.name);
    if (!ts || it == table->tensors.end()) continue;
    calib::TensorRange r = calib::select_max(ts->minmax);
    it->second.min = r.min;
    it->second.max = r.max;
    it->second.threshold = r.threshold;
    it->second.method = "max (model input)";
  }
}

Status Compiler::write(const std::string& name, const std::string& bytes) {
  KW_RETURN_IF_ERROR(write_file_atomic(staging_ + "/" + name, bytes));
  written_.push_back(name);
  return Status::Ok();
}

Status Compiler::save_model(const std::string& name, const ir::Model& m) {
  KW_RETURN_IF_ERROR(frontend::save_onnx(m, staging_ + "/" + name));
  written_.push_back(name);
  log_.info("Saving model to: " + name);
  return Status::Ok();
}

Status Compiler::make_table(const calib::Statistics& stats, const Candidate& c, calib::CalibrationTable* table) const {
  *table = calib::CalibrationTable();
  if (c.load) {
    // Loaded ranges first; the other tensors keep their observed range so that a tensor the loaded model does
    // not quantize is found below (quantize) and named, not silently given a range.
    for (const auto& [name, r] : loaded_.ranges) {
      calib::CalibrationEntry e;
      e.min = r.min;
      e.max = r.max;
      e.threshold = std::max(-r.min, r.max);
      e.method = "load";
      table->tensors[name] = e;
    }
    table->num_samples = stats.num_samples;
    return Status::Ok();
  }
  KW_RETURN_IF_ERROR(calib::make_calibration_table(stats, c.select, table));
  use_exact_input_ranges(stats, table);
  return Status::Ok();
}

Status Compiler::quantize(const calib::CalibrationTable& table, bool weights, ir::Model* qdq,
                          quant::QuantReport* report) {
  std::map<std::string, quant::TensorRange> qranges = compiler::quant_ranges(table);
  quant::QuantOptions o = qopt_;
  o.quantize_weights = weights;
  *qdq = optimized_;
  Status st = quant::insert_qdq(*qdq, qranges, o, report);
  if (!st.ok() && !loaded_.qparams.empty() && st.code() == StatusCode::kNotFound) {
    // calibration_type load: name every tensor the loaded model does not quantize.
    std::map<std::string, quant::TensorRange> all = qranges;
    for (const auto& v : optimized_.graph.inputs) all.emplace(v.name, quant::TensorRange{-1.f, 1.f});
    for (const auto& n : optimized_.graph.nodes)
      for (const auto& v : n.outputs) all.emplace(v, quant::TensorRange{-1.f, 1.f});
    ir::Model probe = optimized_;
    quant::QuantReport rep;
    if (!quant::insert_qdq(probe, all, o, &rep).ok()) return st;
    std::vector<std::string> missing;
    for (const auto& t : rep.tensors)
      if (t.shared_with.empty() && !loaded_.qparams.count(t.name)) missing.push_back(t.name);
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + ("'" + missing[i] + "'");
    if (missing.size() > 20) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    return not_found("calibration_type load: '" + cfg_.calibration.load_model + "' has no QuantizeLinear for " +
                     std::to_string(missing.size()) + " tensor(s) to quantize: " + list +
                     " (tensors are matched by name; keep the float model's tensor names in the QDQ model)");
  }
  return st;
}

Status Compiler::run(const std::string& yaml, CompileResult* result) {
  const auto t_start = Clock::now();
  std::vector<std::string> warnings;
  KW_RETURN_IF_ERROR(config::load_config(yaml, &cfg_, &warnings));
  log_.info("Start kaiwu compile (kaiwu " KAIWU_VERSION_STRING ")");
  log_.info("config: " + yaml);
  for (const auto& w : warnings) log_.warn(w);
  std::string notice;
  std::string target = config::resolve_march(cfg_.model.march, kernels::host_target(), &notice);
  if (target.empty()) return invalid_argument("'" + yaml + "': unknown march '" + cfg_.model.march + "'");
  if (!notice.empty()) log_.info(notice);
  log_.info("march: " + cfg_.model.march + " -> target " + target);

  // Phase 1: the original model.
  auto t = Clock::now();
  log_.info("Start to prepare the onnx model.");
  ir::Model original;
  KW_RETURN_IF_ERROR(compiler::load_float_model(cfg_.model.onnx_model, &original));
  KW_RETURN_IF_ERROR(config::bind_model_inputs(compiler::model_inputs_of(original), &cfg_).with_context(yaml));
  log_.info("model: " + cfg_.model.onnx_model + " (opset " + std::to_string(original.opset()) + ", " +
            std::to_string(original.graph.nodes.size()) + " nodes)");
  prefix_ = cfg_.model.output_model_file_prefix;
  KW_RETURN_IF_ERROR(make_dirs(cfg_.model.working_dir));
  staging_ = cfg_.model.working_dir + "/.kaiwu_staging_" + std::to_string(::getpid());
  KW_RETURN_IF_ERROR(make_dirs(staging_));
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_original_float_model.onnx", original));
  log_.info("elapsed: prepare " + fmt(seconds_since(t), 2) + " s");

  // Phase 2: optimized float model (same maths, standard ONNX, opset >= 13 for per-channel QDQ).
  t = Clock::now();
  log_.info("Start to optimize the onnx model.");
  std::map<std::string, Shape> in_shapes;
  for (const auto& in : cfg_.inputs) in_shapes[in.name] = in.shape;
  if (!cfg_.model.output_nodes.empty()) {
    KW_RETURN_IF_ERROR(compiler::set_output_nodes(cfg_.model.output_nodes, in_shapes, &original).with_context(yaml));
    log_.info("output_nodes: the model outputs are now the outputs of " + std::to_string(cfg_.model.output_nodes.size()) +
              " node(s)");
  }
  KW_RETURN_IF_ERROR(compiler::optimize_float_model(original, in_shapes, &optimized_, &log_));
  KW_RETURN_IF_ERROR(compiler::prepare_float_model(cfg_, &optimized_, &log_).with_context(yaml));  // CLE, biases
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_optimized_float_model.onnx", optimized_));
  log_.info("elapsed: optimize " + fmt(seconds_since(t), 2) + " s");

  // Phase 3: calibration statistics.
  t = Clock::now();
  log_.info("Start to calibrate the model.");
  std::vector<calib::InputSpec> specs;
  std::vector<std::string> dirs;
  bool have_data = true;
  for (const auto& in : cfg_.inputs) {
    const ir::ValueInfo* v = optimized_.graph.find_input(in.name);
    specs.push_back({in.name, v && v->dtype != DType::kUndefined ? v->dtype : DType::kF32, in.shape});
    dirs.push_back(in.cal_data_dir);
    if (in.cal_data_dir.empty()) have_data = false;
  }
  calib::CalibrationDataset data;
  const std::string ctype = cfg_.calibration.calibration_type;
  if (ctype == "load") {
    KW_RETURN_IF_ERROR(compiler::load_qparams_from_qdq_model(cfg_.calibration.load_model, &loaded_));
    log_.info("calibration_type load: " + std::to_string(loaded_.qparams.size()) +
              " activation scales from " + cfg_.calibration.load_model);
    for (const auto& f : compiler::complete_through_relu(optimized_.graph, &loaded_))
      log_.info("  load: " + f + " (the Relu/Clip output's qparams; the loaded model quantizes only that one)");
    qopt_.fixed_qparams = loaded_.qparams;
  }
  if (!have_data || ctype == "skip") {
    if (ctype == "load")
      log_.warn("no cal_data_dir: the cosines of the report are computed on 20 random samples (meaningless for "
                "real inputs); the loaded scales are used as they are.");
    else
      log_.warn("no calibration data (cal_data_dir not set or calibration_type: skip): calibrating on 20 random "
                "samples. The quantized model's accuracy is MEANINGLESS; give real calibration data.");
    data = calib::CalibrationDataset::random(specs, 20, 0);
  } else {
    std::string cal_type = cfg_.inputs.empty() ? "" : cfg_.inputs[0].cal_data_type;
    KW_RETURN_IF_ERROR(calib::CalibrationDataset::open(specs, dirs, cal_type, &data));
    std::vector<std::string> norm_warnings;  // the double-normalization guard (compiler/data_checks.h)
    KW_RETURN_IF_ERROR(compiler::check_double_normalization(cfg_, data, &norm_warnings));
    for (const auto& w : norm_warnings) log_.warn(w);
  }
  log_.info("num of calibration data: " + std::to_string(data.size()));
  SessionOptions so;
  so.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> float_exec;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(optimized_, so, &float_exec));
  // The evaluation samples (cosine columns, and the `default` search): up to kMaxEvalSamples. With `default` and at
  // least 10 samples they are held out: every step-th sample (at most a fifth of the set) is left out of the
  // statistics, so the search judges each method on data it was not calibrated on. Otherwise they are spread over
  // the calibration set.
  const size_t n = data.size();
  const bool held_out = ctype == "default" && n >= 10;
  std::vector<size_t> eval_samples;
  if (held_out) {
    const size_t k = std::min(kMaxEvalSamples, n / 5), step = n / k;
    for (size_t i = 0; i < k; ++i) eval_samples.push_back(i * step + step - 1);
  } else {
    const size_t step = n > kMaxEvalSamples ? n / kMaxEvalSamples : 1;
    for (size_t i = 0; i < n && eval_samples.size() < kMaxEvalSamples; i += step) eval_samples.push_back(i);
  }
  calib::Statistics stats;
  compiler::LayerCollector layer_stats;  // layer input statistics for the calibration refinements
  {
    compiler::Progress progress("calibration", opt_.progress, tty_progress());
    // Histograms only when a method needs them (kl, mse, percentile, max with max_percentile < 1, the search).
    const bool plain_max = (ctype == "max" || ctype == "skip") && cfg_.calibration.max_percentile.value_or(1.0) >= 1.0;
    calib::CollectOptions co;
    co.kind = ctype == "load" || plain_max ? calib::ObserverKind::kMinMax : calib::ObserverKind::kHistogram;
    if (held_out) co.skip = eval_samples;
    KW_RETURN_IF_ERROR(layer_stats.init_for(cfg_, optimized_, n - co.skip.size()));  // calibration refinements
    co.on_sample = [&](size_t i, const std::vector<std::string>& nm, const std::vector<Tensor>& v) {
      return layer_stats.add(i, nm, v);
    };
    KW_RETURN_IF_ERROR(calib::collect_statistics(*float_exec, data, {}, co, &stats, std::ref(progress)));
  }
  log_.info(held_out ? std::to_string(n - eval_samples.size()) + " samples calibrate, " +
                           std::to_string(eval_samples.size()) + " held-out samples evaluate"
                     : "evaluation on " + std::to_string(eval_samples.size()) + " of the calibration samples");
  log_.info("elapsed: calibration statistics " + fmt(seconds_since(t), 2) + " s");

  // Quantization options from the config.
  quant::QuantOptions from_cfg;
  KW_RETURN_IF_ERROR(compiler::quant_options(cfg_, optimized_.graph, &from_cfg).with_context(yaml));
  from_cfg.fixed_qparams = std::move(qopt_.fixed_qparams);
  qopt_ = std::move(from_cfg);
  if (qopt_.asymmetric_activations) log_.info("activations: asymmetric int8 (zero point != 0)");

  // Phase 4: ranges and QDQ; `default` searches the candidates by output cosine of the QDQ model.
  t = Clock::now();
  std::vector<Candidate> cands;
  calib::SelectOptions sel;
  if (ctype == "load") {
    cands.push_back({"load", sel, true});
  } else if (ctype == "max" || ctype == "skip") {
    sel.method = calib::RangeMethod::kMax;
    sel.max_percentile = cfg_.calibration.max_percentile.value_or(1.0);
    cands.push_back({"max" + (sel.max_percentile < 1.0 ? ":percentile=" + fmt(sel.max_percentile, 5) : ""), sel});
  } else if (ctype == "kl" || ctype == "mse" || ctype == "percentile") {
    calib::parse_range_method(ctype, &sel.method);
    cands.push_back({ctype, sel});
  } else {  // default
    sel.method = calib::RangeMethod::kMax;
    cands.push_back({"max", sel});
    sel.max_percentile = 0.99995;
    cands.push_back({"max:percentile=0.99995", sel});
    sel.max_percentile = 1.0;
    sel.method = calib::RangeMethod::kKl;
    cands.push_back({"kl", sel});
    sel.method = calib::RangeMethod::kMse;
    cands.push_back({"mse", sel});
  }
  std::vector<std::string> compare_names;
  for (const auto& node : optimized_.graph.nodes)
    for (const auto& o : node.outputs)
      if (!o.empty() && stats.find(o)) compare_names.push_back(o);
  std::vector<std::string> output_names;
  for (const auto& o : optimized_.graph.outputs) output_names.push_back(o.name);

  ir::Model best_model;
  quant::QuantReport best_report;
  calib::CalibrationTable best_table;
  size_t best = 0;
  if (cands.size() == 1) {
    KW_RETURN_IF_ERROR(make_table(stats, cands[0], &best_table));
    KW_RETURN_IF_ERROR(quantize(best_table, true, &best_model, &best_report));
    log_.info("Select " + cands[0].label + " method.");
  } else {
    log_.info("calibration_type default: searching " + std::to_string(cands.size()) +
              " candidates by the output cosine of the quantized model over " + std::to_string(eval_samples.size()) +
              " samples");
    double best_cos = -2;
    compiler::Progress progress("search", opt_.progress, tty_progress());
    for (size_t ci = 0; ci < cands.size(); ++ci) {
      calib::CalibrationTable table;
      ir::Model qdq;
      quant::QuantReport rep;
      KW_RETURN_IF_ERROR(make_table(stats, cands[ci], &table));
      KW_RETURN_IF_ERROR(quantize(table, true, &qdq, &rep));
      std::unique_ptr<runtime::GraphExecutor> qexec;
      KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(qdq, so, &qexec));
      std::vector<compiler::Cosines> cos_out;
      const size_t base = ci * eval_samples.size(), total = cands.size() * eval_samples.size();
      KW_RETURN_IF_ERROR(compiler::compare_models(
          *float_exec, {{qexec.get(), output_names, "quantized model (" + cands[ci].label + ")"}}, data, eval_samples,
          &cos_out, [&](size_t d, size_t) { progress.update(base + d, total); }));
      double cos = 0;
      for (const auto& o : output_names) cos += cos_out[0][o].value();
      cos /= output_names.empty() ? 1 : output_names.size();
      progress.clear();
      log_.info("  candidate " + cands[ci].label + ": output cosine " + fmt(cos));
      if (cos > best_cos) {
        best_cos = cos;
        best = ci;
        best_model = std::move(qdq);
        best_report = std::move(rep);
        best_table = std::move(table);
      }
    }
    progress.finish();
    log_.info("Select " + cands[best].label + " method (best output cosine of " + std::to_string(cands.size()) +
              " candidates).");
  }
  const std::string best_label = cands[best].label;
  // Weight refinements of quant_config (MSE weight ranges, AdaRound-style rounding, bias correction).
  KW_RETURN_IF_ERROR(compiler::refine_weights(cfg_, optimized_, *float_exec, data,
                                              held_out ? eval_samples : std::vector<size_t>{}, eval_samples,
                                              best_table, &layer_stats, &qopt_, &best_model, &best_report, &log_)
                         .with_context(yaml));
  log_.info("elapsed: " + std::string(cands.size() > 1 ? "search and quantize " : "quantize ") +
            fmt(seconds_since(t), 2) + " s");

  // Phase 5: the calibrated (activations-only) model and the cosines of both columns.
  t = Clock::now();
  ir::Model calibrated;
  KW_RETURN_IF_ERROR(quantize(best_table, false, &calibrated, nullptr));
  // The fixed-point model (integer ops, explicit requantization) lowered from the QDQ model, and the deployable
  // model: the fixed-point graph optimized for the target (NHWC int8 convolutions, fused ops), weights aligned.
  ir::Model fixed;
  quant::LowerReport lower_report;
  KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(best_model, &fixed, &lower_report));
  log_.info("fixed-point model: " + std::to_string(lower_report.integer_count()) + " integer ops, " +
            std::to_string(lower_report.float_count()) + " float nodes");
  for (const auto& ln : lower_report.nodes)
    if (!ln.integer) log_.info("  float in the fixed-point model: " + ln.name + " (" + ln.op_type + "): " + ln.how);
  // The model of the "Quantized Cosine" column, run by Kaiwu's runtime, and its file name for the report: the
  // fixed-point model (before its preprocessing, so it takes the float inputs of the evaluation samples), with its
  // integer tensors dequantized under their float names for the comparison.
  ir::Model quantized_column_model = fixed;
  KW_RETURN_IF_ERROR(quant::expose_dequantized(best_model, compare_names, &quantized_column_model));
  // Preprocessing (colour conversion, mean/scale, layout, the first quantization) goes into the fixed-point and
  // deployable models only: they take the runtime frames (uint8 NHWC, nv12 as _y/_uv) of input_type_rt.
  // input_batch / separate_batch / separate_name (compiler/batch_split.h): `pre_cfg` names the split inputs.
  config::CompileConfig pre_cfg;
  {
    std::vector<std::string> batch_log;
    KW_RETURN_IF_ERROR(compiler::apply_input_batch(cfg_, best_model, &fixed, &pre_cfg, &batch_log).with_context(yaml));
    for (const auto& l : batch_log) log_.info(l);
  }
  {
    std::string pre_log;
    KW_RETURN_IF_ERROR(compiler::insert_preprocessing(pre_cfg, &fixed, &pre_log).with_context("inserting the preprocessing"));
    std::istringstream lines(pre_log);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) log_.info(line);
  }
  ir::Model deployable = fixed;
  KW_RETURN_IF_ERROR(passes::optimize_for_cpu(deployable).with_context("optimizing the deployable model"));
  compiler::fold_preprocess_layout(&deployable);
  const std::string quantized_column_file = prefix_ + "_quantized_model.onnx";
  std::vector<compiler::Cosines> cosines;
  {
    std::unique_ptr<runtime::GraphExecutor> cal_exec, q_exec;
    KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(calibrated, so, &cal_exec));
    KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(quantized_column_model, so, &q_exec));
    compiler::Progress progress("cosine evaluation", opt_.progress, tty_progress());
    KW_RETURN_IF_ERROR(compiler::compare_models(
        *float_exec,
        {{cal_exec.get(), compiler::tensors_in(calibrated, compare_names), "calibrated model"},
         {q_exec.get(), compiler::tensors_in(quantized_column_model, compare_names), "quantized model"}},
        data, eval_samples, &cosines, std::ref(progress)));
  }
  log_.info("elapsed: cosine evaluation " + fmt(seconds_since(t), 2) + " s");

  // Phase 6: artifacts and reports.
  best_table.fingerprint = calib::graph_fingerprint(optimized_.graph);
  best_table.calibration_type = best_label;
  if (best_table.num_samples == 0) best_table.num_samples = stats.num_samples;
  KW_RETURN_IF_ERROR(calib::save_calibration(staging_ + "/" + prefix_ + "_calibration.json", best_table));
  written_.push_back(prefix_ + "_calibration.json");
  for (ir::Model* m : {&calibrated, &best_model}) {
    m->metadata["kaiwu.calibration_method"] = best_label;
    m->metadata["kaiwu.target"] = target;
  }
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_calibrated_model.onnx", calibrated));
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_ptq_model.onnx", best_model));
  fixed.metadata = best_model.metadata;
  compiler::describe_runtime_inputs(pre_cfg, fixed.graph, &fixed.metadata);  // input source/layout for kaiwu info
  compiler::describe_runtime_inputs(pre_cfg, deployable.graph, &deployable.metadata);
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_quantized_model.onnx", fixed));
  deploy::DeployInfo dinfo{KAIWU_VERSION_STRING, target, describe_compile(cfg_, target, best_label)};
  KW_RETURN_IF_ERROR(deploy::write_deployable(deployable, dinfo, staging_ + "/" + prefix_ + ".kwm"));
  written_.push_back(prefix_ + ".kwm");
  {  // remove_node_type / remove_node_name (compiler/remove_nodes.h): P_quantized_removed_model.onnx, P_removed.kwm
    ir::Model removed, removed_dep;
    bool any = false;
    std::vector<std::string> rlog, rwarn;
    KW_RETURN_IF_ERROR(
        compiler::make_removed_models(cfg_.model, fixed, &removed, &removed_dep, &any, &rlog, &rwarn).with_context(yaml));
    for (const auto& l : rlog) log_.info(l);
    for (const auto& w : rwarn) log_.warn(w);
    if (any) {
      KW_RETURN_IF_ERROR(save_model(prefix_ + "_quantized_removed_model.onnx", removed));
      KW_RETURN_IF_ERROR(deploy::write_deployable(removed_dep, dinfo, staging_ + "/" + prefix_ + "_removed.kwm"));
      written_.push_back(prefix_ + "_removed.kwm");
    }
  }
  // Static performance estimate of the deployable model on the target (P.json, P.html).
  {
    perf::Report pr;
    const int threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    // The configured shapes of the float inputs the deployable still has with free dims. A frame input that kept
    // the float input's name (rgb/bgr/gray from ddr) has its own static NHWC uint8 shape: not overridden.
    std::map<std::string, Shape> dep_shapes;
    for (const auto& v : deployable.graph.inputs)
      if (in_shapes.count(v.name) && !v.static_shape()) dep_shapes[v.name] = in_shapes.at(v.name);
    KW_RETURN_IF_ERROR(perf::estimate(deployable, dep_shapes, perf::target_for(target), threads, &pr)
                           .with_context("performance estimate"));
    pr.model = prefix_;
    KW_RETURN_IF_ERROR(write(prefix_ + ".json", perf::to_json(pr)));
    KW_RETURN_IF_ERROR(write(prefix_ + ".html", perf::to_html(pr)));
    log_.info("performance estimate (" + target + ", " + std::to_string(threads) + " threads): " +
              fmt(pr.latency_ms, 3) + " ms per frame, " + fmt(pr.total_macs / 1e9, 3) + " GMACs; see " + prefix_ +
              ".html");
  }

  std::vector<compiler::NodeRow> rows = compiler::node_rows(optimized_.graph, best_report, &cosines[0], &cosines[1]);
  for (const auto& nr : best_report.nodes) {
    if (!nr.fused_with.empty() && nr.op_type != "Conv" && nr.op_type != "Gemm" && nr.op_type != "ConvTranspose" &&
        nr.op_type != "MatMul")
      continue;
    if (nr.where == quant::Precision::kInt8) ++result->nodes_int8;
    else if (nr.where == quant::Precision::kInt16) ++result->nodes_int16;
    else ++result->nodes_float;
  }
  std::vector<compiler::OutputRow> outs;
  double out_cos = 0;
  for (const auto& o : output_names) {
    auto cit = cosines[0].find(o), qit = cosines[1].find(o);
    const bool has_q = qit != cosines[1].end() && qit->second.samples > 0;
    out_cos += has_q ? qit->second.value() : 0.0;
    outs.push_back({o, cit != cosines[0].end() ? fmt(cit->second.value()) : "--", has_q ? fmt(qit->second.value()) : "--"});
  }
  result->output_cosine = output_names.empty() ? 0 : out_cos / output_names.size();
  const std::string over = "cosine of the values concatenated over " + std::to_string(eval_samples.size()) +
                           " evaluation samples; Calibrated = activations quantized only, Quantized = " +
                           quantized_column_file + " run by Kaiwu";
  log_.info("The main quantized node information (" + over + "):");
  log_.info(compiler::node_table(rows));
  log_.info("The quantized model output (" + over + "):");
  log_.info(compiler::output_table(outs));
  for (const auto& nr : best_report.nodes)
    if (nr.where == quant::Precision::kFloat) log_.info("float node " + nr.name + " (" + nr.op_type + "): " + nr.why);
  for (const auto& note : best_report.notes) log_.info("note: " + note);
  KW_RETURN_IF_ERROR(write(prefix_ + "_node_info.csv", compiler::node_csv(rows)));
  KW_RETURN_IF_ERROR(write(prefix_ + "_quant_info.json", compiler::quant_info_json(rows, outs, best_label, eval_samples.size(),
                                                                       quantized_column_file)));
  result->seconds = seconds_since(t_start);
  log_.info("The kaiwu compile completes running (" + fmt(result->seconds, 2) + " s).");
  KW_RETURN_IF_ERROR(write("kaiwu_compile.log", log_.text()));

  // Move the staged files into working_dir.
  for (const auto& f : written_) {
    std::error_code ec;
    fs::rename(staging_ + "/" + f, cfg_.model.working_dir + "/" + f, ec);
    if (ec) return io_error("cannot move '" + f + "' into '" + cfg_.model.working_dir + "': " + ec.message());
  }
  std::error_code ec;
  fs::remove_all(staging_, ec);
  result->working_dir = cfg_.model.working_dir;
  result->artifacts = written_;
  result->calibration_method = best_label;
  return Status::Ok();
}

}  // namespace

Status compile_model(const std::string& yaml_path, const CompileOptions& options, CompileResult* result) {
  Compiler c(options);
  *result = CompileResult();
  Status st = c.run(yaml_path, result);
  return st;
}

}  // namespace kaiwu
