#include "debug/amp.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "calib/calib_table.h"
#include "compiler/pipeline.h"
#include "compiler/preprocess.h"
#include "config/compile_config.h"
#include "core/file_util.h"
#include "debug/debugger.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "perf/cost_model.h"
#include "quant/fixed_point.h"
#include "quant/quant.h"

namespace kaiwu::debug {

namespace fs = std::filesystem;

namespace {

using compiler::fmt;

struct Ctx {
  explicit Ctx(const AmpOptions& o) : opt(o) {}
  const AmpOptions& opt;
  config::CompileConfig cfg;
  ir::Model optimized;
  std::map<std::string, quant::TensorRange> ranges;
  quant::QuantOptions base;
  std::map<std::string, Shape> shapes;
  std::string target;
  std::unique_ptr<Evaluator> ev;
  int evaluations = 0;
};

using Raises = std::map<std::string, std::string>;  // node -> "int16" / "float"

// The weight refinements the compile applied (AdaRound-style rounding, MSE ranges, bias correction), read back from
// its QDQ model: every int8 weight that a DequantizeLinear feeds into a node becomes a given weight, and every int32
// bias its dequantized value minus the float bias (the bias correction, plus the int32 rounding). Returns the counts.
std::pair<int, int> reuse_refinements(const ir::Graph& qdq, const ir::Graph& fl, quant::QuantOptions* q) {
  std::map<std::string, const ir::Node*> dq_of;
  for (const auto& n : qdq.nodes)
    if (n.op_type == "DequantizeLinear" && n.inputs.size() >= 2 && qdq.is_initializer(n.inputs[0]) &&
        qdq.is_initializer(n.inputs[1]))
      dq_of[n.outputs[0]] = &n;
  std::map<std::string, const ir::Node*> float_nodes;
  for (const auto& n : fl.nodes) float_nodes[n.name] = &n;
  int weights = 0, biases = 0;
  for (const auto& n : qdq.nodes) {
    auto fit = float_nodes.find(n.name);
    if (fit == float_nodes.end() || fit->second->op_type != n.op_type) continue;
    const ir::Node& f = *fit->second;
    for (size_t k = 0; k < n.inputs.size() && k < f.inputs.size(); ++k) {
      auto d = dq_of.find(n.inputs[k]);
      if (d == dq_of.end() || !fl.is_initializer(f.inputs[k])) continue;
      const Tensor& qv = qdq.initializers.at(d->second->inputs[0]);
      const Tensor& sc = qdq.initializers.at(d->second->inputs[1]);
      const Tensor& fv = fl.initializers.at(f.inputs[k]);
      if (qv.shape() != fv.shape() || sc.dtype() != DType::kF32 || fv.dtype() != DType::kF32) continue;
      const float* s = sc.data<float>();
      const int64_t ns = sc.numel();
      const auto ax = d->second->attrs.find("axis");
      int axis = ns > 1 ? static_cast<int>(ax != d->second->attrs.end() ? ax->second.i : 1) : -1;
      if (axis < 0 && ns > 1) axis += static_cast<int>(qv.shape().size());
      if (qv.dtype() == DType::kI8 && !q->given_weights.count(n.name)) {
        quant::QuantizedWeight w;
        w.q = qv.clone();
        w.scales.assign(s, s + ns);
        w.axis = axis;
        q->given_weights[n.name] = std::move(w);
        ++weights;
      } else if (qv.dtype() == DType::kI32 && fv.shape().size() == 1 && (ns == 1 || ns == fv.numel())) {
        std::vector<float> delta(fv.numel());
        for (int64_t c = 0; c < fv.numel(); ++c)
          delta[c] = static_cast<float>(qv.data<int32_t>()[c] * double(s[ns == 1 ? 0 : c]) - fv.data<float>()[c]);
        q->bias_delta[n.name] = std::move(delta);
        ++biases;
      }
    }
  }
  return {weights, biases};
}

quant::QuantOptions options_for(const Ctx& c, const Raises& r) {
  quant::QuantOptions q = c.base;
  for (const auto& [node, t] : r) {
    if (t == "int16") {
      q.int16_nodes.insert(node);
      q.float_nodes.erase(node);
    } else {
      q.float_nodes.insert(node);
      q.int16_nodes.erase(node);
    }
  }
  return q;
}

Status quantize(const Ctx& c, const Raises& r, ir::Model* qdq) {
  *qdq = c.optimized;
  return quant::insert_qdq(*qdq, c.ranges, options_for(c, r), nullptr);
}

Status cosine_of(Ctx& c, const Raises& r, double* cos) {
  ir::Model qdq;
  KW_RETURN_IF_ERROR(quantize(c, r, &qdq));
  std::vector<ErrorStats> st;
  KW_RETURN_IF_ERROR(c.ev->evaluate(qdq, &st));
  ++c.evaluations;
  *cos = Evaluator::mean(st, Metric::kCosine);
  return Status::Ok();
}

// Estimated latency of the deployable model of a QDQ model (without the input preprocessing).
Status latency_of(const Ctx& c, const ir::Model& qdq, double* ms) {
  ir::Model fixed;
  KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(qdq, &fixed, nullptr));
  KW_RETURN_IF_ERROR(passes::optimize_for_cpu(fixed));
  perf::Report pr;
  // As kaiwu compile estimates P.json: every core up to 8.
  const int threads = static_cast<int>(std::max(1u, std::min(8u, std::thread::hardware_concurrency())));
  KW_RETURN_IF_ERROR(perf::estimate(fixed, c.shapes, perf::builtin_target(c.target), threads, &pr));
  *ms = pr.latency_ms;
  return Status::Ok();
}

Status latency_for(const Ctx& c, const Raises& r, double* ms) {
  ir::Model qdq;
  KW_RETURN_IF_ERROR(quantize(c, r, &qdq));
  return latency_of(c, qdq, ms);
}

// The yaml calibration settings reproducing the working_dir's table ("max:percentile=0.99995" -> max + percentile).
void set_calibration_type(const std::string& label, config::CompileConfig* cfg) {
  const std::string pre = "max:percentile=";
  if (label.rfind(pre, 0) == 0) {
    cfg->calibration.calibration_type = "max";
    cfg->calibration.max_percentile = std::atof(label.c_str() + pre.size());
  } else if (label == "max" || label == "kl" || label == "mse" || label == "percentile") {
    cfg->calibration.calibration_type = label;
  }
}

std::string node_info_block(const Raises& r) {
  std::ostringstream os;
  os << "model_parameters:\n  node_info:\n";
  for (const auto& [node, t] : r) {
    os << "    '" << node << "':\n";
    if (t == "int16") os << "      ON: BPU\n      InputType: int16\n      OutputType: int16\n";
    else os << "      ON: CPU\n";
  }
  return os.str();
}


}  // namespace

Status auto_mixed_precision(const AmpOptions& opt, AmpResult* out, const std::function<void(const std::string&)>& log) {
  *out = AmpResult();
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  if (opt.config.empty()) return invalid_argument("auto-mp needs the compile yaml (-c)");
  if (!(opt.target_cosine > 0 && opt.target_cosine <= 1))
    return invalid_argument("--target-cosine must be in (0, 1], got " + std::to_string(opt.target_cosine));
  Ctx c(opt);
  std::vector<std::string> warnings;
  KW_RETURN_IF_ERROR(config::load_config(opt.config, &c.cfg, &warnings));
  const std::string wd = opt.working_dir.empty() ? c.cfg.model.working_dir : opt.working_dir;
  const std::string prefix = c.cfg.model.output_model_file_prefix;
  const std::string opt_path = wd + "/" + prefix + "_optimized_float_model.onnx";
  const std::string table_path = wd + "/" + prefix + "_calibration.json";
  for (const auto& p : {opt_path, table_path})
    if (!fs::exists(p))
      return not_found("'" + p + "' is missing: run `kaiwu compile -c " + opt.config + "` first (working_dir " + wd + ")");
  KW_RETURN_IF_ERROR(frontend::load_onnx(opt_path, &c.optimized));
  KW_RETURN_IF_ERROR(config::bind_model_inputs(compiler::model_inputs_of(c.optimized), &c.cfg).with_context(opt.config));
  calib::CalibrationTable table;
  KW_RETURN_IF_ERROR(calib::load_calibration(table_path, &table));
  c.ranges = compiler::quant_ranges(table);
  KW_RETURN_IF_ERROR(compiler::quant_options(c.cfg, c.optimized.graph, &c.base).with_context(opt.config));
  {
    // The compile's weight refinements (bias correction, AdaRound, MSE ranges) apply to every candidate model.
    const std::string ptq_path = wd + "/" + prefix + "_ptq_model.onnx";
    ir::Model ptq;
    if (fs::exists(ptq_path) && frontend::load_onnx(ptq_path, &ptq).ok()) {
      auto [nw, nb] = reuse_refinements(ptq.graph, c.optimized.graph, &c.base);
      say("weights and biases of " + ptq_path + " reused: " + std::to_string(nw) + " weights, " +
          std::to_string(nb) + " biases");
    }
  }
  std::string notice;
  c.target = config::resolve_march(c.cfg.model.march, kernels::host_target(), &notice);
  if (c.target.empty()) c.target = kernels::host_target();
  for (const auto& in : c.cfg.inputs) c.shapes[in.name] = in.shape;

  // Data: the evaluation samples (compile's held-out ones when the set has >= 10 samples).
  std::vector<calib::InputSpec> specs;
  std::vector<std::string> dirs;
  for (const auto& in : c.cfg.inputs) {
    const ir::ValueInfo* v = c.optimized.graph.find_input(in.name);
    specs.push_back({in.name, v && v->dtype != DType::kUndefined ? v->dtype : DType::kF32, in.shape});
    std::string d = in.cal_data_dir;
    if (!opt.data_dir.empty())
      d = fs::is_directory(opt.data_dir + "/" + in.name) || c.cfg.inputs.size() > 1 ? opt.data_dir + "/" + in.name
                                                                                      : opt.data_dir;
    if (d.empty()) return invalid_argument("input '" + in.name + "' has no cal_data_dir in " + opt.config + "; give --data");
    dirs.push_back(d);
  }
  calib::CalibrationDataset data;
  KW_RETURN_IF_ERROR(calib::CalibrationDataset::open(specs, dirs, c.cfg.inputs.empty() ? "" : c.cfg.inputs[0].cal_data_type,
                                                     &data));
  const size_t n = data.size();
  std::vector<size_t> samples;
  const size_t want = opt.data_num ? std::min(opt.data_num, n) : n;
  if (n >= 10 && want <= n / 5) {
    const size_t step = n / want;
    for (size_t i = 0; i < want; ++i) samples.push_back(i * step + step - 1);
  } else {
    for (size_t i = 0; i < want; ++i) samples.push_back(i);
  }
  out->samples = samples.size();
  KW_RETURN_IF_ERROR(Evaluator::create(c.optimized, &data, samples, {}, opt.threads, &c.ev));

  // Baseline and ranking.
  Raises raises;
  ir::Model base_qdq;
  KW_RETURN_IF_ERROR(quantize(c, raises, &base_qdq));
  KW_RETURN_IF_ERROR(cosine_of(c, raises, &out->cosine_before));
  KW_RETURN_IF_ERROR(latency_of(c, base_qdq, &out->latency_before_ms));
  say("all-int8 (as configured): output cosine " + fmt(out->cosine_before) + ", estimated latency " +
      fmt(out->latency_before_ms, 3) + " ms, " + std::to_string(samples.size()) + " samples");
  double cur = out->cosine_before;
  if (cur < opt.target_cosine) {
    QdqAnalysis a;
    KW_RETURN_IF_ERROR(analyze_qdq(base_qdq, &c.optimized, &a));
    SensitivityOptions so;
    std::vector<SensitivityRow> rows;
    const size_t nr = std::max<size_t>(1, std::min(opt.rank_samples ? opt.rank_samples : samples.size(), samples.size()));
    say("ranking " + std::to_string(a.nodes.size()) + " quantized nodes by sensitivity on " + std::to_string(nr) +
        " samples");
    std::unique_ptr<Evaluator> rank_ev;
    KW_RETURN_IF_ERROR(Evaluator::create(c.optimized, &data, std::vector<size_t>(samples.begin(), samples.begin() + nr),
                                         {}, opt.threads, &rank_ev));
    size_t last = 0;
    KW_RETURN_IF_ERROR(node_sensitivity(a, *rank_ev, so, &rows, [&](size_t done, size_t total) {
      if (done * 10 / total != last) {
        last = done * 10 / total;
        say("  ranked " + std::to_string(done) + " / " + std::to_string(total));
      }
    }));
    {
      std::string top;
      for (size_t i = 0; i < rows.size() && i < 10; ++i) top += (i ? ", " : "") + rows[i].name + " " + fmt(rows[i].values[0]);
      say("  most sensitive: " + top);
    }
    out->evaluations += static_cast<int>(rows.size());
    // Candidates: ranked worst first, with a real loss, not already float.
    std::vector<const SensitivityRow*> cand;
    for (const auto& row : rows)
      if (1.0 - row.values[0] > 1e-7 && !c.base.float_nodes.count(row.name) &&
          (opt.max_raises <= 0 || static_cast<int>(cand.size()) < opt.max_raises))
        cand.push_back(&row);
    auto record = [&](const std::string& node, const std::string& op, const std::string& qtype, double sens,
                      const Raises& r) -> Status {
      AmpStep st{node, op, qtype, sens, cur, 0};
      KW_RETURN_IF_ERROR(latency_for(c, r, &st.latency_ms));
      out->steps.push_back(st);
      return Status::Ok();
    };
    // Phase 1: the top-k candidates together, k doubling (int16, then float when int16 for all is not enough);
    // then the smallest k between the last failing and the first passing one, by bisection.
    bool found = false;
    for (const std::string qtype : {"int16", "float"}) {
      if ((qtype == "int16" && (!opt.allow_int16 || c.base.all_int16)) || (qtype == "float" && !opt.allow_float))
        continue;
      auto top = [&](size_t k) {
        Raises r = raises;
        for (size_t i = 0; i < k; ++i) r[cand[i]->name] = qtype;
        return r;
      };
      size_t failing = 0;
      for (size_t k = std::min<size_t>(2, cand.size()); k > 0; k = k == cand.size() ? 0 : std::min(2 * k, cand.size())) {
        Raises r = top(k);
        double cr = 0;
        KW_RETURN_IF_ERROR(cosine_of(c, r, &cr));
        say("  top " + std::to_string(k) + " nodes " + qtype + ": output cosine " + fmt(cr));
        if (cr >= opt.target_cosine) {
          size_t passing = k;
          Raises best = r;
          double best_cos = cr;
          while (passing - failing > 1) {
            const size_t mid = failing + (passing - failing) / 2;
            Raises rm = top(mid);
            double cm = 0;
            KW_RETURN_IF_ERROR(cosine_of(c, rm, &cm));
            say("  top " + std::to_string(mid) + " nodes " + qtype + ": output cosine " + fmt(cm));
            if (cm >= opt.target_cosine) passing = mid, best = rm, best_cos = cm;
            else failing = mid;
          }
          cur = best_cos;
          raises = best;
          KW_RETURN_IF_ERROR(record("top " + std::to_string(passing), "", qtype, 0, best));
          found = true;
          break;
        }
        failing = k;
        if (cr > cur) {
          cur = cr;
          raises = r;
          KW_RETURN_IF_ERROR(record("top " + std::to_string(k), "", qtype, 0, r));
        }
      }
      if (found) break;
    }
    // Phase 2: drop what is not needed, least sensitive first (float -> int16 -> int8).
    if (opt.prune && cur >= opt.target_cosine) {
      for (size_t i = cand.size(); i-- > 0;) {
        auto it = raises.find(cand[i]->name);
        if (it == raises.end()) continue;
        std::vector<std::string> lower = {"int8"};
        if (it->second == "float" && opt.allow_int16 && !c.base.all_int16) lower.insert(lower.begin(), "int16");
        for (const auto& to : lower) {
          Raises r = raises;
          if (to == "int8") r.erase(cand[i]->name);
          else r[cand[i]->name] = to;
          double cr = 0;
          KW_RETURN_IF_ERROR(cosine_of(c, r, &cr));
          if (cr >= opt.target_cosine) {
            say("  " + cand[i]->name + ": " + it->second + " -> " + to + " keeps the target (" + fmt(cr) + ")");
            raises = r;
            cur = cr;
            break;
          }
        }
      }
    }
    // The raises kept, with their single-node sensitivity and latency cost.
    for (const auto* row : cand) {
      auto it = raises.find(row->name);
      if (it == raises.end()) continue;
      Raises without = raises;
      without.erase(row->name);
      double with_ms = 0, without_ms = std::nan("");
      if (raises.size() <= 32) {  // per-raise cost (two estimates per node); skipped for large sets
        KW_RETURN_IF_ERROR(latency_for(c, raises, &with_ms));
        KW_RETURN_IF_ERROR(latency_for(c, without, &without_ms));
      }
      AmpStep st{row->name, row->op_type, it->second, row->values[0], cur, with_ms - without_ms};
      out->final.push_back(st);
    }
  }
  out->cosine_after = cur;
  out->reached = cur >= opt.target_cosine;
  out->evaluations += c.evaluations;

  // Artifacts.
  out->out_dir = opt.out_dir.empty() ? wd + "/amp" : opt.out_dir;
  std::error_code ec;
  fs::create_directories(out->out_dir, ec);
  if (ec) return io_error("cannot create '" + out->out_dir + "': " + ec.message());
  ir::Model qdq;
  KW_RETURN_IF_ERROR(quantize(c, raises, &qdq));
  KW_RETURN_IF_ERROR(latency_of(c, qdq, &out->latency_after_ms));
  ir::Model fixed;
  KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(qdq, &fixed, nullptr));
  std::string pre_log;
  KW_RETURN_IF_ERROR(compiler::insert_preprocessing(c.cfg, &fixed, &pre_log).with_context("inserting the preprocessing"));
  out->qdq_path = out->out_dir + "/" + prefix + "_ptq_model.onnx";
  out->fixed_path = out->out_dir + "/" + prefix + "_quantized_model.onnx";
  KW_RETURN_IF_ERROR(frontend::save_onnx(qdq, out->qdq_path));
  KW_RETURN_IF_ERROR(frontend::save_onnx(fixed, out->fixed_path));
  out->node_info_yaml = node_info_block(raises);
  KW_RETURN_IF_ERROR(write_file_atomic(out->out_dir + "/node_info.yaml", out->node_info_yaml));
  config::CompileConfig amp_cfg = c.cfg;
  for (const auto& [node, t] : raises) {
    config::NodeInfo ni;
    if (t == "int16") ni.on = "BPU", ni.input_type = "int16", ni.output_type = "int16";
    else ni.on = "CPU";
    amp_cfg.model.node_info[node] = ni;
  }
  amp_cfg.model.working_dir = out->out_dir + "/compile";
  set_calibration_type(table.calibration_type, &amp_cfg);
  out->yaml_path = out->out_dir + "/amp_config.yaml";
  KW_RETURN_IF_ERROR(write_file_atomic(out->yaml_path, config::config_to_yaml(amp_cfg)));

  std::ostringstream rep;
  rep << "automatic mixed precision: target output cosine " << fmt(opt.target_cosine) << " on " << out->samples
      << " samples (" << out->evaluations << " model evaluations)\n";
  rep << "before: output cosine " << fmt(out->cosine_before) << ", estimated latency " << fmt(out->latency_before_ms, 3)
      << " ms\nafter:  output cosine " << fmt(out->cosine_after) << ", estimated latency " << fmt(out->latency_after_ms, 3)
      << " ms, " << raises.size() << " raised node(s)" << (out->reached ? "" : " -- TARGET NOT REACHED") << "\n\n";
  char line[512];
  rep << "search (the top-k ranked nodes raised together, k doubling):\n";
  for (const auto& st : out->steps)
    std::snprintf(line, sizeof line, "  %-10s %-6s output cosine %.6f, estimated latency %s ms\n", st.node.c_str(),
                  st.qtype.c_str(), st.cosine, fmt(st.latency_ms, 3).c_str()),
        rep << line;
  rep << "\nraised nodes kept after pruning (alone cosine: only this node quantized; latency: estimated cost of "
         "this raise in the final model):\n";
  std::snprintf(line, sizeof line, "%-4s %-40s %-16s %-6s %-14s %s\n", "#", "node", "op", "qtype", "alone cosine",
                "latency ms");
  rep << line;
  for (size_t i = 0; i < out->final.size(); ++i) {
    const auto& st = out->final[i];
    const std::string ms = std::isnan(st.latency_ms) ? "-- (not estimated for more than 32 raises)"
                                                     : (st.latency_ms >= 0 ? "+" : "") + fmt(st.latency_ms, 3);
    std::snprintf(line, sizeof line, "%-4zu %-40s %-16s %-6s %-14.6f %s\n", i + 1, st.node.c_str(),
                  st.op_type.c_str(), st.qtype.c_str(), st.sensitivity, ms.c_str());
    rep << line;
  }
  rep << "\nnode_info block (also in node_info.yaml; complete yaml: amp_config.yaml):\n" << out->node_info_yaml;
  rep << "\nfiles: " << out->qdq_path << ", " << out->fixed_path << "\n";
  out->report = rep.str();
  out->report_path = out->out_dir + "/amp_report.txt";
  return write_file_atomic(out->report_path, out->report);
}

}  // namespace kaiwu::debug
