// The `kaiwu compile` pipeline: config -> original / optimized float stage models -> calibration -> QDQ
// (calibrated / ptq stage models) -> reports. Every file is written into a staging folder first and moved into
// working_dir only when all phases succeeded.
#include "kaiwu/compile.h"
#include "kaiwu/version.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <set>
#include <sstream>

#include "calib/calibrate.h"
#include "compiler/report.h"
#include "config/compile_config.h"
#include "core/file_util.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt(double v, int prec = 6) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(prec) << v;
  return os.str();
}

// Cosine similarity accumulated over several samples (sums of products, in double).
struct Cosine {
  double dot = 0, na = 0, nb = 0;
  void add(const Tensor& a, const Tensor& b) {
    if (a.numel() != b.numel() || a.dtype() != DType::kF32 || b.dtype() != DType::kF32) return;
    const float *x = a.data<float>(), *y = b.data<float>();
    for (int64_t i = 0; i < a.numel(); ++i) {
      dot += double(x[i]) * y[i];
      na += double(x[i]) * x[i];
      nb += double(y[i]) * y[i];
    }
  }
  double value() const {
    if (na == 0 && nb == 0) return 1.0;
    if (na == 0 || nb == 0) return 0.0;
    return dot / std::sqrt(na * nb);
  }
};

// A terminal progress line for long phases: samples done, rate, time left.
struct Progress {
  bool on;
  std::string what;
  Clock::time_point start = Clock::now();
  void operator()(size_t done, size_t total) const {
    if (!on) return;
    double s = seconds_since(start), rate = s > 0 ? done / s : 0;
    double left = rate > 0 ? (total - done) / rate : 0;
    std::fprintf(stderr, "\r%s: %zu/%zu samples, %.1f samples/s, %.0f s left   ", what.c_str(), done, total, rate, left);
    if (done == total) std::fprintf(stderr, "\n");
  }
};

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

struct Eval {
  std::vector<std::string> names;          // float tensors compared
  std::map<std::string, Cosine> cosine;    // per tensor
};

// Runs both models on `samples` of the dataset and accumulates the cosine of every tensor in `names`.
Status compare_models(runtime::GraphExecutor& ref, runtime::GraphExecutor& test, calib::CalibrationDataset& data,
                      const std::vector<size_t>& samples, const std::vector<std::string>& names, Eval* out) {
  out->names = names;
  for (size_t i : samples) {
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(data.sample(i, &feeds));
    std::vector<Tensor> a, b;
    KW_RETURN_IF_ERROR(ref.run(feeds, names, &a).with_context("float model"));
    KW_RETURN_IF_ERROR(test.run(feeds, names, &b).with_context("quantized model"));
    for (size_t k = 0; k < names.size(); ++k) out->cosine[names[k]].add(a[k], b[k]);
  }
  return Status::Ok();
}

struct Candidate {
  std::string label;
  calib::SelectOptions select;
};

class Compiler {
 public:
  // Model inputs keep their exact min/max whatever the method: input data (images with a uniform background, a
  // spike at one value) is where histogram methods such as KL clip real content away, and the input's range is
  // known exactly from the data anyway.
  void use_exact_input_ranges(const calib::Statistics& stats, calib::CalibrationTable* table) const {
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
  Status quantize(const calib::Statistics& stats, const calib::SelectOptions& sel, ir::Model* qdq,
                  quant::QuantReport* report, std::map<std::string, calib::TensorRange>* ranges);

  CompileOptions opt_;
  compiler::Log log_;
  config::CompileConfig cfg_;
  std::string staging_, prefix_;
  std::vector<std::string> written_;
  ir::Model optimized_;
  quant::QuantOptions qopt_;
};

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

Status Compiler::quantize(const calib::Statistics& stats, const calib::SelectOptions& sel, ir::Model* qdq,
                          quant::QuantReport* report, std::map<std::string, calib::TensorRange>* ranges) {
  calib::CalibrationTable table;
  KW_RETURN_IF_ERROR(calib::make_calibration_table(stats, sel, &table));
  use_exact_input_ranges(stats, &table);
  std::map<std::string, quant::TensorRange> qranges;
  ranges->clear();
  for (const auto& [name, e] : table.tensors) {
    qranges[name] = {e.min, e.max};
    (*ranges)[name] = {e.min, e.max, e.threshold, e.method};
  }
  *qdq = optimized_;
  return quant::insert_qdq(*qdq, qranges, qopt_, report);
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
  KW_RETURN_IF_ERROR(frontend::load_onnx(cfg_.model.onnx_model, &original));
  KW_RETURN_IF_ERROR(ops::check_supported(original.graph).with_context(cfg_.model.onnx_model));
  std::vector<config::ModelInput> model_inputs;
  for (const auto& v : original.graph.inputs) {
    config::ModelInput mi{v.name, {}};
    for (const auto& d : v.dims) mi.shape.push_back(d.is_static() ? d.value : -1);
    model_inputs.push_back(mi);
  }
  KW_RETURN_IF_ERROR(config::bind_model_inputs(model_inputs, &cfg_).with_context(yaml));
  log_.info("model: " + cfg_.model.onnx_model + " (opset " + std::to_string(original.opset()) + ", " +
            std::to_string(original.graph.nodes.size()) + " nodes)");
  prefix_ = cfg_.model.output_model_file_prefix;
  KW_RETURN_IF_ERROR(make_dirs(cfg_.model.working_dir));
  staging_ = cfg_.model.working_dir + "/.kaiwu_staging_" + std::to_string(::getpid());
  KW_RETURN_IF_ERROR(make_dirs(staging_));
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_original_float_model.onnx", original));

  // Phase 2: optimized float model (same maths, standard ONNX, opset >= 13 for per-channel QDQ).
  log_.info("Start to optimize the onnx model.");
  optimized_ = original;
  KW_RETURN_IF_ERROR(passes::optimize_standard(optimized_));
  std::map<std::string, Shape> in_shapes;
  for (const auto& in : cfg_.inputs) in_shapes[in.name] = in.shape;
  if (optimized_.opset() < 13) {
    bool changed = false;
    KW_RETURN_IF_ERROR(passes::upgrade_opset(optimized_, 13, &changed, in_shapes));
    log_.info("opset upgraded from " + std::to_string(original.opset()) + " to 13 for quantization");
  }
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_optimized_float_model.onnx", optimized_));
  log_.info("optimize: " + fmt(seconds_since(t), 2) + " s");

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
  if (!have_data || ctype == "skip") {
    log_.warn("no calibration data (cal_data_dir not set or calibration_type: skip): calibrating on 20 random "
              "samples. The quantized model's accuracy is MEANINGLESS; give real calibration data.");
    data = calib::CalibrationDataset::random(specs, 20, 0);
  } else {
    std::string cal_type = cfg_.inputs.empty() ? "" : cfg_.inputs[0].cal_data_type;
    KW_RETURN_IF_ERROR(calib::CalibrationDataset::open(specs, dirs, cal_type, &data));
  }
  log_.info("num of calibration data: " + std::to_string(data.size()));
  SessionOptions so;
  so.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> float_exec;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(optimized_, so, &float_exec));
  calib::Statistics stats;
  Progress progress{opt_.progress && ::isatty(2), "calibration"};
  KW_RETURN_IF_ERROR(calib::collect_statistics(*float_exec, data, {}, calib::ObserverKind::kHistogram, &stats,
                                               std::ref(progress)));
  log_.info("calibration statistics: " + fmt(seconds_since(t), 2) + " s");

  // Quantization options from the config.
  for (const auto& [node, info] : cfg_.model.node_info) {
    if (info.on == "CPU") qopt_.float_nodes.insert(node);
    if (info.input_type == "int16" || info.output_type == "int16") qopt_.int16_nodes.insert(node);
    for (const auto& kv : info.input_type_at)
      if (kv.second == "int16") qopt_.int16_nodes.insert(node);
  }
  for (const auto& f : cfg_.calibration.optimization)
    if (f == "set_all_nodes_int16") qopt_.all_int16 = true;

  // Phase 4: ranges and QDQ; `default` searches the candidates by output cosine.
  t = Clock::now();
  std::vector<Candidate> cands;
  calib::SelectOptions sel;
  if (ctype == "max" || ctype == "skip" || ctype == "load") {
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
  std::vector<size_t> eval_samples;
  const size_t n = data.size(), step = n > 20 ? n / 20 : 1;
  for (size_t i = 0; i < n && eval_samples.size() < 20; i += step) eval_samples.push_back(i);
  std::vector<std::string> compare_names;
  for (const auto& node : optimized_.graph.nodes)
    for (const auto& o : node.outputs)
      if (!o.empty() && stats.find(o)) compare_names.push_back(o);
  std::vector<std::string> output_names;
  for (const auto& o : optimized_.graph.outputs) output_names.push_back(o.name);

  ir::Model best_model;
  quant::QuantReport best_report;
  std::map<std::string, calib::TensorRange> best_ranges;
  Eval best_eval;
  std::string best_label;
  double best_cos = -2;
  for (const auto& c : cands) {
    ir::Model qdq;
    quant::QuantReport rep;
    std::map<std::string, calib::TensorRange> ranges;
    KW_RETURN_IF_ERROR(quantize(stats, c.select, &qdq, &rep, &ranges));
    std::unique_ptr<runtime::GraphExecutor> qexec;
    KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(qdq, so, &qexec));
    Eval ev;
    KW_RETURN_IF_ERROR(compare_models(*float_exec, *qexec, data, eval_samples,
                                      cands.size() > 1 ? output_names : compare_names, &ev));
    double cos = 0;
    for (const auto& o : output_names) cos += ev.cosine[o].value();
    cos /= output_names.empty() ? 1 : output_names.size();
    if (cands.size() > 1) log_.info("  candidate " + c.label + ": output cosine " + fmt(cos));
    if (cos > best_cos) {
      best_cos = cos;
      best_model = std::move(qdq);
      best_report = std::move(rep);
      best_ranges = std::move(ranges);
      best_label = c.label;
      best_eval = std::move(ev);  // per-node cosines already, when there is a single candidate
    }
  }
  if (cands.size() > 1) log_.info("Select " + best_label + " method (best output cosine of " +
                                  std::to_string(cands.size()) + " candidates).");
  else log_.info("Select " + best_label + " method.");
  if (cands.size() > 1) {  // the search compared outputs only: per-node cosines of the chosen model
    std::unique_ptr<runtime::GraphExecutor> qexec;
    KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(best_model, so, &qexec));
    best_eval = Eval();
    KW_RETURN_IF_ERROR(compare_models(*float_exec, *qexec, data, eval_samples, compare_names, &best_eval));
  }
  log_.info("quantize: " + fmt(seconds_since(t), 2) + " s");

  // Phase 5: artifacts and reports.
  calib::CalibrationTable table;
  calib::SelectOptions chosen;
  for (const auto& c : cands)
    if (c.label == best_label) chosen = c.select;
  KW_RETURN_IF_ERROR(calib::make_calibration_table(stats, chosen, &table));
  use_exact_input_ranges(stats, &table);
  table.fingerprint = calib::graph_fingerprint(optimized_.graph);
  table.calibration_type = best_label;
  KW_RETURN_IF_ERROR(calib::save_calibration(staging_ + "/" + prefix_ + "_calibration.json", table));
  written_.push_back(prefix_ + "_calibration.json");
  best_model.metadata["kaiwu.calibration_method"] = best_label;
  best_model.metadata["kaiwu.target"] = target;
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_calibrated_model.onnx", best_model));
  KW_RETURN_IF_ERROR(save_model(prefix_ + "_ptq_model.onnx", best_model));

  std::vector<compiler::NodeRow> rows;
  auto prod = optimized_.graph.producers();
  std::map<std::string, std::string> output_of;  // node name -> first output
  for (const auto& node : optimized_.graph.nodes)
    if (!node.outputs.empty()) output_of[node.name] = node.outputs[0];
  for (const auto& nr : best_report.nodes) {
    // A fused Conv+Relu is one row (as hb_compile prints it), with the activation's output.
    const bool is_conv = nr.op_type == "Conv" || nr.op_type == "Gemm" || nr.op_type == "ConvTranspose" ||
                         nr.op_type == "MatMul";
    if (!nr.fused_with.empty() && !is_conv) continue;
    const quant::NodeReport* act = nr.fused_with.empty() ? nullptr : best_report.find(nr.fused_with);
    const quant::NodeReport& shown = act ? *act : nr;
    compiler::NodeRow r;
    r.node = nr.name + (act ? "+" + act->name : "");
    r.type = nr.op_type + (act ? "+" + act->op_type : "");
    r.on = nr.where == quant::Precision::kFloat ? "CPU" : "BPU";
    r.threshold = shown.output_quantized ? fmt(shown.output_threshold) : "--";
    r.dtype = quant::precision_name(nr.where);
    r.calibrated_cosine = "--";
    auto oit = output_of.find(shown.name);
    if (oit != output_of.end()) {
      auto it = best_eval.cosine.find(oit->second);
      if (it != best_eval.cosine.end()) r.calibrated_cosine = fmt(it->second.value());
    }
    r.quantized_cosine = "--";  // the fixed-point model does not exist yet
    rows.push_back(r);
    if (nr.where == quant::Precision::kInt8) ++result->nodes_int8;
    else if (nr.where == quant::Precision::kInt16) ++result->nodes_int16;
    else ++result->nodes_float;
  }
  std::vector<compiler::OutputRow> outs;
  double out_cos = 0;
  for (const auto& o : output_names) {
    double c = best_eval.cosine[o].value();
    out_cos += c;
    outs.push_back({o, fmt(c), "--"});
  }
  result->output_cosine = output_names.empty() ? 0 : out_cos / output_names.size();
  log_.info("The main quantized node information:");
  log_.info(compiler::node_table(rows));
  log_.info("The quantized model output (cosine over " + std::to_string(eval_samples.size()) + " samples):");
  log_.info(compiler::output_table(outs));
  for (const auto& nr : best_report.nodes)
    if (nr.where == quant::Precision::kFloat) log_.info("float node " + nr.name + " (" + nr.op_type + "): " + nr.why);
  for (const auto& note : best_report.notes) log_.info("note: " + note);
  KW_RETURN_IF_ERROR(write(prefix_ + "_node_info.csv", compiler::node_csv(rows)));
  KW_RETURN_IF_ERROR(write(prefix_ + "_quant_info.json", compiler::quant_info_json(rows, outs, best_label)));
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
