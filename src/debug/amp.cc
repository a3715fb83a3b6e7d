#include "debug/amp.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "calib/calib_table.h"
#include "compiler/pipeline.h"
#include "compiler/preprocess.h"
#include "compiler/batch_split.h"
#include "config/compile_config.h"
#include "core/file_util.h"
#include "debug/debugger.h"
#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "ir/graph_edit.h"
#include "frontend/onnx/onnx_import.h"
#include "kaiwu/version.h"
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
  Metric metric = Metric::kCosine;
  std::string metric_label;  // "output cosine", "top-1 agreement", "IoU of the maps binarized at 0.3"
  int evaluations = 0;
};

// Raised items: "a:<tensor>" -> "int16" (an activation tensor) and "n:<node>" -> "int16" / "float" (a node).
using Raises = std::map<std::string, std::string>;
std::string akey(const std::string& tensor) { return "a:" + tensor; }
std::string nkey(const std::string& node) { return "n:" + node; }

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
  for (const auto& [key, t] : r) {
    const std::string name = key.substr(2);
    if (key[0] == 'a') {
      q.int16_tensors.insert(name);
    } else if (t == "int16") {
      q.int16_nodes.insert(name);
      q.float_nodes.erase(name);
    } else {
      q.float_nodes.insert(name);
      q.int16_nodes.erase(name);
    }
  }
  return q;
}

Status quantize(const Ctx& c, const Raises& r, ir::Model* qdq, quant::QuantReport* report = nullptr) {
  *qdq = c.optimized;
  return quant::insert_qdq(*qdq, c.ranges, options_for(c, r), report);
}

// Activation tensors that share one scale (a max pool or a data movement reuses its input's qparams) take one
// precision: they are raised together. Groups in graph order, each named by its first tensor.
std::vector<std::vector<std::string>> share_groups(const quant::QuantReport& rep) {
  std::map<std::string, std::string> parent;
  std::function<std::string(const std::string&)> root = [&](const std::string& t) {
    auto it = parent.find(t);
    if (it == parent.end() || it->second == t) return t;
    return it->second = root(it->second);
  };
  for (const auto& t : rep.tensors) parent.emplace(t.name, t.name);
  for (const auto& t : rep.tensors)
    if (!t.shared_with.empty() && parent.count(t.shared_with)) {
      const std::string a = root(t.name), b = root(t.shared_with);
      if (a != b) parent[a] = b;
    }
  std::map<std::string, size_t> index;
  std::vector<std::vector<std::string>> groups;
  for (const auto& t : rep.tensors) {
    const std::string r = root(t.name);
    auto it = index.find(r);
    if (it == index.end()) it = index.emplace(r, groups.size()).first, groups.emplace_back();
    groups[it->second].push_back(t.name);
  }
  return groups;
}

// The target metric of the model with these raises on the evaluation samples (or those of `ev`).
Status metric_of(Ctx& c, const Raises& r, double* value, Evaluator* ev = nullptr) {
  ir::Model qdq;
  KW_RETURN_IF_ERROR(quantize(c, r, &qdq));
  std::vector<ErrorStats> st;
  KW_RETURN_IF_ERROR((ev ? ev : c.ev.get())->evaluate(qdq, &st));
  ++c.evaluations;
  *value = Evaluator::mean(st, c.metric);
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

// A node raised to float, with the activation that only it feeds (Conv -> Relu): left int8, that activation would
// quantize the float output's whole signed range, worse than the int8 pair it replaces.
std::vector<std::string> float_keys(const ir::Graph& g, const std::string& node) {
  std::vector<std::string> keys = {nkey(node)};
  for (size_t step = 0; step < 2; ++step) {
    const ir::Node* n = nullptr;
    for (const auto& x : g.nodes)
      if (x.name == keys.back().substr(2)) n = &x;
    if (!n || n->outputs.size() != 1 || ir::is_graph_output(g, n->outputs[0])) break;
    const ir::Node* reader = nullptr;
    int readers = 0;
    for (const auto& x : g.nodes)
      for (const auto& in : x.inputs)
        if (in == n->outputs[0]) reader = &x, ++readers;
    static const std::set<std::string> kActs = {"Relu", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid", "Sigmoid",
                                                "Tanh", "PRelu"};
    if (readers != 1 || !kActs.count(reader->op_type)) break;
    keys.push_back(nkey(reader->name));
  }
  return keys;
}

// The node_info entries expressing the raises: a float node is ON: CPU, an int16 node has int16 input and output
// types; an int16 tensor is its producer's OutputType, or for a graph input, InputType<k> of each reader.
std::map<std::string, config::NodeInfo> node_infos(const ir::Graph& g, const Raises& r,
                                                   std::map<std::string, std::string>* yaml_node = nullptr) {
  std::map<std::string, config::NodeInfo> out;
  const auto producer = g.producers();
  for (const auto& [key, t] : r) {
    const std::string name = key.substr(2);
    if (key[0] == 'n') {
      config::NodeInfo& ni = out[name];
      if (t == "int16") ni.on = "BPU", ni.input_type = "int16", ni.output_type = "int16";
      else ni.on = "CPU";
      if (yaml_node) (*yaml_node)[key] = name;
      continue;
    }
    auto p = producer.find(name);
    if (p != producer.end()) {
      const ir::Node& n = g.nodes[p->second];
      config::NodeInfo& ni = out[n.name];
      if (ni.on.empty()) ni.on = "BPU";
      ni.output_type = "int16";
      if (yaml_node) (*yaml_node)[key] = n.name;
      continue;
    }
    for (const auto& n : g.nodes)
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (n.inputs[k] == name) {
          config::NodeInfo& ni = out[n.name];
          if (ni.on.empty()) ni.on = "BPU";
          ni.input_type_at[static_cast<int>(k)] = "int16";
          if (yaml_node && !yaml_node->count(key)) (*yaml_node)[key] = n.name;
        }
  }
  return out;
}

}  // namespace

Status auto_mixed_precision(const AmpOptions& opt, AmpResult* out, const std::function<void(const std::string&)>& log) {
  *out = AmpResult();
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  if (opt.config.empty()) return invalid_argument("auto-mp needs the compile yaml (-c)");
  Ctx c(opt);
  KW_RETURN_IF_ERROR(parse_metric(opt.metric, &c.metric));
  if (c.metric != Metric::kCosine && c.metric != Metric::kTop1 && c.metric != Metric::kIou)
    return invalid_argument("auto-mp targets cosine, top1 or iou, not '" + opt.metric + "'");
  if (!(opt.target > 0 && opt.target <= 1))
    return invalid_argument("the target " + opt.metric + " must be in (0, 1], got " + std::to_string(opt.target));
  c.metric_label = c.metric == Metric::kCosine ? "output cosine"
                   : c.metric == Metric::kTop1 ? "top-1 agreement"
                                               : "IoU of the maps binarized at " + fmt(opt.binarize, 3);
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
  c.ev->set_binarize(opt.binarize);
  // Validation: as many other samples as there are evaluation samples (when the data has them), to check that the
  // pruning did not fit the evaluation samples' noise. Their evaluator (which runs the float model on them) is made
  // at the first validation.
  std::vector<size_t> val_samples;
  if (opt.validate) {
    const std::set<size_t> used(samples.begin(), samples.end());
    for (size_t i = 0; i < n && val_samples.size() < samples.size(); ++i)
      if (!used.count(i)) val_samples.push_back(i);
    if (val_samples.size() < 5) val_samples.clear();
  }
  std::unique_ptr<Evaluator> val_ev;
  auto validate = [&](const Raises& r, double* v) -> Status {
    if (!val_ev) {
      KW_RETURN_IF_ERROR(Evaluator::create(c.optimized, &data, val_samples, {}, opt.threads, &val_ev));
      val_ev->set_binarize(opt.binarize);
      out->validation_samples = val_samples.size();
    }
    return metric_of(c, r, v, val_ev.get());
  };

  // Baseline and ranking.
  Raises raises;
  ir::Model base_qdq;
  quant::QuantReport base_report;
  KW_RETURN_IF_ERROR(quantize(c, raises, &base_qdq, &base_report));
  KW_RETURN_IF_ERROR(metric_of(c, raises, &out->before));
  KW_RETURN_IF_ERROR(latency_of(c, base_qdq, &out->latency_before_ms));
  say("all-int8 (as configured): " + c.metric_label + " " + fmt(out->before) + ", estimated latency " +
      fmt(out->latency_before_ms, 3) + " ms, " + std::to_string(samples.size()) + " samples");
  double cur = out->before;
  if (cur < opt.target) {
    QdqAnalysis a;
    KW_RETURN_IF_ERROR(analyze_qdq(base_qdq, &c.optimized, &a));
    const size_t nr = std::max<size_t>(1, std::min(opt.rank_samples ? opt.rank_samples : samples.size(), samples.size()));
    std::unique_ptr<Evaluator> rank_ev;
    KW_RETURN_IF_ERROR(Evaluator::create(c.optimized, &data, std::vector<size_t>(samples.begin(), samples.begin() + nr),
                                         {}, opt.threads, &rank_ev));
    struct Cand {
      std::vector<std::string> keys;  // the raised items (a share group of tensors, or one node)
      std::string name, op_type, qtype;
      double score = 0;
    };
    std::vector<Cand> order;  // every candidate tried, most important first (int16 tensors, then float nodes)
    auto record = [&](const std::string& what, const std::string& qtype, const Raises& r) -> Status {
      AmpStep st{what, "", qtype, "", 0, cur, 0};
      KW_RETURN_IF_ERROR(latency_for(c, r, &st.latency_ms));
      out->steps.push_back(st);
      return Status::Ok();
    };
    // The smallest k such that raising the first k of `cand` (on top of `raises`) reaches the target: k doubling,
    // then bisection between the last failing and the first passing k. Without a passing k, every candidate stays
    // raised when that improves the metric.
    auto search = [&](const std::vector<Cand>& cand, const std::string& label, bool* found) -> Status {
      auto top = [&](size_t k) {
        Raises r = raises;
        for (size_t i = 0; i < k; ++i)
          for (const auto& key : cand[i].keys) r[key] = cand[i].qtype;
        return r;
      };
      size_t failing = 0;
      for (size_t k = std::min<size_t>(2, cand.size()); k > 0; k = k == cand.size() ? 0 : std::min(2 * k, cand.size())) {
        Raises r = top(k);
        double cr = 0;
        KW_RETURN_IF_ERROR(metric_of(c, r, &cr));
        say("  top " + std::to_string(k) + " " + label + ": " + c.metric_label + " " + fmt(cr));
        if (cr >= opt.target) {
          size_t passing = k;
          Raises best = r;
          double best_value = cr;
          while (passing - failing > 1) {
            const size_t mid = failing + (passing - failing) / 2;
            Raises rm = top(mid);
            double cm = 0;
            KW_RETURN_IF_ERROR(metric_of(c, rm, &cm));
            say("  top " + std::to_string(mid) + " " + label + ": " + c.metric_label + " " + fmt(cm));
            if (cm >= opt.target) passing = mid, best = rm, best_value = cm;
            else failing = mid;
          }
          cur = best_value;
          raises = best;
          *found = true;
          return record("top " + std::to_string(passing), label, best);
        }
        failing = k;
        if (cr > cur) {
          cur = cr;
          raises = r;
          KW_RETURN_IF_ERROR(record("top " + std::to_string(k), label, r));
        }
      }
      return Status::Ok();
    };
    auto capped = [&](size_t n) { return opt.max_raises > 0 && static_cast<int>(n) >= opt.max_raises; };
    bool found = false;
    // Phase 1: activation tensors to int16, a group sharing one scale together. Each group is scored by the output
    // MSE it causes alone (only it int8, the rest float) plus the MSE it removes in context (only it float, the
    // rest int8): the first sees isolated damage, the second tensors whose error matters only next to the others'.
    // MSE adds up over samples and pixels; the cosine is a poor guide on outputs such as probability maps of images
    // without text, where it sits near 0 whatever one tensor does.
    if (opt.allow_int16 && !c.base.all_int16) {
      const auto groups = share_groups(base_report);
      say("ranking " + std::to_string(groups.size()) + " activation groups (alone and all-but-one) on " +
          std::to_string(nr) + " samples");
      std::vector<ErrorStats> st;
      KW_RETURN_IF_ERROR(rank_ev->evaluate(base_qdq, &st));
      const double base_mse = Evaluator::mean(st, Metric::kMse);
      const std::vector<bool> weights_only = mask_kind(a, true);
      double weights_mse = 0;  // the "alone" models keep the int8 weights, as an int16 raise does
      {
        ir::Model partial;
        KW_RETURN_IF_ERROR(build_partial(a, weights_only, &partial));
        KW_RETURN_IF_ERROR(rank_ev->evaluate(partial, &st));
        weights_mse = Evaluator::mean(st, Metric::kMse);
      }
      std::vector<Cand> cand;
      for (size_t gi = 0; gi < groups.size(); ++gi) {
        std::vector<bool> without = mask_all(a), alone = weights_only;
        size_t n = 0;
        for (const auto& t : groups[gi])
          for (size_t e : a.edges_of("activation", t)) without[e] = false, alone[e] = true, ++n;
        if (n == 0) continue;
        double mse[2] = {0, 0};
        for (int k = 0; k < 2; ++k) {
          ir::Model partial;
          KW_RETURN_IF_ERROR(build_partial(a, k == 0 ? alone : without, &partial));
          KW_RETURN_IF_ERROR(rank_ev->evaluate(partial, &st));
          mse[k] = Evaluator::mean(st, Metric::kMse);
          ++out->evaluations;
        }
        const double score = std::max(0.0, mse[0] - weights_mse) + std::max(0.0, base_mse - mse[1]);
        if (score > 1e-6 * base_mse) {
          Cand cd{{}, groups[gi][0], "activation", "int16", score};
          for (const auto& t : groups[gi]) cd.keys.push_back(akey(t));
          cand.push_back(std::move(cd));
        }
        if ((gi + 1) * 10 / groups.size() != gi * 10 / groups.size())
          say("  ranked " + std::to_string(gi + 1) + " / " + std::to_string(groups.size()));
      }
      std::stable_sort(cand.begin(), cand.end(), [](const Cand& x, const Cand& y) { return x.score > y.score; });
      if (opt.max_raises > 0 && cand.size() > static_cast<size_t>(opt.max_raises)) cand.resize(opt.max_raises);
      std::string top;
      for (size_t i = 0; i < cand.size() && i < 8; ++i)
        top += (i ? ", " : "") + cand[i].name + (cand[i].keys.size() > 1 ? " (+" + std::to_string(cand[i].keys.size() - 1) + ")" : "") + " " + fmt(cand[i].score, 9);
      say("  " + std::to_string(cand.size()) + " groups with a loss (output MSE all-int8 " + fmt(base_mse, 9) +
          "); first: " + top);
      KW_RETURN_IF_ERROR(search(cand, "activation groups int16", &found));
      order = cand;
    }
    // Phase 2: nodes to float (weights and activations), ranked by their loss alone, on top of the int16 tensors.
    if (!found && opt.allow_float) {
      SensitivityOptions so;
      so.metrics = {Metric::kMse};
      std::vector<SensitivityRow> rows;
      say("ranking " + std::to_string(a.nodes.size()) + " nodes (each alone quantized) on " + std::to_string(nr) +
          " samples");
      size_t last = 0;
      KW_RETURN_IF_ERROR(node_sensitivity(a, *rank_ev, so, &rows, [&](size_t done, size_t total) {
        if (done * 10 / total != last) {
          last = done * 10 / total;
          say("  ranked " + std::to_string(done) + " / " + std::to_string(total));
        }
      }));
      out->evaluations += static_cast<int>(rows.size());
      std::string top;
      for (size_t i = 0; i < rows.size() && i < 8; ++i) top += (i ? ", " : "") + rows[i].name + " " + fmt(rows[i].values[0], 9);
      say("  first: " + top);
      std::vector<Cand> cand;
      for (const auto& row : rows)
        if (row.values[0] > 0 && !c.base.float_nodes.count(row.name) && !capped(cand.size()))
          cand.push_back({float_keys(c.optimized.graph, row.name), row.name, row.op_type, "float", row.values[0]});
      KW_RETURN_IF_ERROR(search(cand, "nodes float", &found));
      order.insert(order.end(), cand.begin(), cand.end());
    }
    // Phase 3: drop the raises that are not needed, least important first, in groups of 8 (a group that cannot go
    // as a whole is halved), so that a large set with few needed raises costs few evaluations.
    // Every accepted state of the pruning, from the search's result on: the validation walks back along it.
    std::vector<std::pair<Raises, double>> history = {{raises, cur}};
    if (opt.prune && cur >= opt.target) {
      std::vector<const Cand*> kept;
      for (const auto& cd : order)
        if (raises.count(cd.keys[0])) kept.push_back(&cd);
      std::function<Status(size_t, size_t)> drop = [&](size_t lo, size_t hi) -> Status {
        Raises r = raises;
        size_t n = 0;
        for (size_t i = lo; i < hi; ++i)
          if (r.count(kept[i]->keys[0])) {
            for (const auto& key : kept[i]->keys) r.erase(key);
            ++n;
          }
        if (n == 0) return Status::Ok();
        double cr = 0;
        KW_RETURN_IF_ERROR(metric_of(c, r, &cr));
        if (cr >= opt.target) {
          say("  dropped " + std::to_string(n) + " raise(s) (" + kept[lo]->name + (n > 1 ? " ..." : "") + "): " +
              c.metric_label + " " + fmt(cr));
          raises = r;
          cur = cr;
          history.emplace_back(raises, cur);
          return Status::Ok();
        }
        if (hi - lo == 1) return Status::Ok();
        const size_t mid = lo + (hi - lo) / 2;
        KW_RETURN_IF_ERROR(drop(mid, hi));
        return drop(lo, mid);
      };
      const size_t group = 8;
      for (size_t hi = kept.size(); hi > 0;) {
        const size_t lo = hi > group ? hi - group : 0;
        KW_RETURN_IF_ERROR(drop(lo, hi));
        hi = lo;
      }
    }
    // Validation of the pruned set on the other samples: when it misses the target there, the latest state of the
    // pruning that meets it (bisection along the history, which only removes raises) is kept instead.
    if (!val_samples.empty() && cur >= opt.target) {
      double v = 0;
      KW_RETURN_IF_ERROR(validate(raises, &v));
      say("validation on " + std::to_string(out->validation_samples) + " other samples: " + c.metric_label + " " + fmt(v));
      if (v < opt.target && history.size() > 1) {
        size_t good = 0, bad = history.size() - 1;  // history[good] is assumed to pass (the search's result)
        double good_v = std::nan("");
        while (bad - good > 1) {
          const size_t mid = good + (bad - good) / 2;
          double vm = 0;
          KW_RETURN_IF_ERROR(validate(history[mid].first, &vm));
          say("  back to pruning step " + std::to_string(mid) + ": validation " + c.metric_label + " " + fmt(vm));
          if (vm >= opt.target) good = mid, good_v = vm;
          else bad = mid;
        }
        if (std::isnan(good_v)) KW_RETURN_IF_ERROR(validate(history[good].first, &good_v));
        raises = history[good].first;
        cur = history[good].second;
        v = good_v;
        say("  kept pruning step " + std::to_string(good) + " of " + std::to_string(history.size() - 1) + ": " +
            c.metric_label + " " + fmt(cur) + ", validation " + fmt(v));
      }
      out->validation = v;
    }
    // The raises kept, with their ranking score and latency cost.
    std::map<std::string, std::string> yaml_node;
    node_infos(c.optimized.graph, raises, &yaml_node);
    size_t kept = 0;
    for (const auto& cd : order) kept += raises.count(cd.keys[0]);
    double with_ms = 0;  // per-raise cost: one estimate per raise; skipped for large sets
    if (kept <= 32) KW_RETURN_IF_ERROR(latency_for(c, raises, &with_ms));
    for (const auto& cd : order) {
      auto it = raises.find(cd.keys[0]);
      if (it == raises.end()) continue;
      Raises without = raises;
      for (const auto& key : cd.keys) without.erase(key);
      double without_ms = std::nan("");
      if (kept <= 32) KW_RETURN_IF_ERROR(latency_for(c, without, &without_ms));
      std::string name = cd.name;
      if (cd.keys.size() > 1 && cd.qtype == "float")
        for (size_t k = 1; k < cd.keys.size(); ++k) name += " + " + cd.keys[k].substr(2);
      else if (cd.keys.size() > 1)
        name += " (+" + std::to_string(cd.keys.size() - 1) + " sharing its scale)";
      out->final.push_back(AmpStep{name, cd.op_type, it->second, yaml_node[cd.keys[0]], cd.score, cur,
                                   with_ms - without_ms});
    }
  }
  out->after = cur;
  out->reached = cur >= opt.target;
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
  {  // The deployable model, as kaiwu compile writes it (same weights; runs with kaiwu exec / kaiwu_bench at once).
    ir::Model dep = fixed;
    KW_RETURN_IF_ERROR(passes::optimize_for_cpu(dep).with_context("optimizing the deployable model"));
    compiler::fold_preprocess_layout(&dep);
    compiler::describe_runtime_inputs(c.cfg, dep.graph, &dep.metadata);
    out->kwm_path = out->out_dir + "/" + prefix + ".kwm";
    deploy::DeployInfo info{KAIWU_VERSION_STRING, c.target,
                            std::string("{\"tool\": \"kaiwu debug auto-mp\", \"version\": \"") + KAIWU_VERSION_STRING +
                                "\", \"raises\": " + std::to_string(out->final.size()) + "}"};
    KW_RETURN_IF_ERROR(deploy::write_deployable(dep, info, out->kwm_path));
  }
  const auto infos = node_infos(c.optimized.graph, raises);
  out->node_info_yaml = "model_parameters:\n  node_info:\n" + config::node_info_to_yaml(infos, "    ");
  KW_RETURN_IF_ERROR(write_file_atomic(out->out_dir + "/node_info.yaml", out->node_info_yaml));
  config::CompileConfig amp_cfg = c.cfg;
  for (const auto& [node, ni] : infos) amp_cfg.model.node_info[node] = ni;
  amp_cfg.model.working_dir = out->out_dir + "/compile";
  set_calibration_type(table.calibration_type, &amp_cfg);
  out->yaml_path = out->out_dir + "/amp_config.yaml";
  KW_RETURN_IF_ERROR(write_file_atomic(out->yaml_path, config::config_to_yaml(amp_cfg)));

  std::ostringstream rep;
  rep << "automatic mixed precision: target " << c.metric_label << " " << fmt(opt.target) << " on " << out->samples
      << " samples (" << out->evaluations << " model evaluations)\n";
  if (!std::isnan(out->validation))
    rep << "validation on " << out->validation_samples << " other samples: " << c.metric_label << " "
        << fmt(out->validation) << (out->validation >= opt.target ? "" : " -- below the target") << "\n";
  rep << "before: " << c.metric_label << " " << fmt(out->before) << ", estimated latency " << fmt(out->latency_before_ms, 3)
      << " ms\nafter:  " << c.metric_label << " " << fmt(out->after) << ", estimated latency " << fmt(out->latency_after_ms, 3)
      << " ms, " << out->final.size() << " raise(s)" << (out->reached ? "" : " -- TARGET NOT REACHED") << "\n\n";
  char line[512];
  rep << "search (the top-k ranked items raised together, k doubling, then bisection):\n";
  for (const auto& st : out->steps)
    std::snprintf(line, sizeof line, "  %-10s %-18s %s %.6f, estimated latency %s ms\n", st.node.c_str(),
                  st.qtype.c_str(), c.metric_label.c_str(), st.value, fmt(st.latency_ms, 3).c_str()),
        rep << line;
  rep << "\nraises kept after pruning (score: output MSE of this tensor group int8 alone plus the MSE it removes "
         "left float in the int8 model, or of this node quantized alone; node_info: the entry carrying it; latency: estimated cost of this raise in the final "
         "model):\n";
  std::snprintf(line, sizeof line, "%-4s %-40s %-16s %-6s %-10s %-32s %s\n", "#", "tensor / node", "op", "qtype",
                "score", "node_info", "latency ms");
  rep << line;
  for (size_t i = 0; i < out->final.size(); ++i) {
    const auto& st = out->final[i];
    const std::string ms = std::isnan(st.latency_ms) ? "-- (not estimated for more than 32 raises)"
                                                     : (st.latency_ms >= 0 ? "+" : "") + fmt(st.latency_ms, 3);
    std::snprintf(line, sizeof line, "%-4zu %-40s %-16s %-6s %-10.4g %-32s %s\n", i + 1, st.node.c_str(),
                  st.op_type.c_str(), st.qtype.c_str(), st.sensitivity, st.yaml_node.c_str(), ms.c_str());
    rep << line;
  }
  rep << "\nnode_info block (also in node_info.yaml; complete yaml: amp_config.yaml):\n" << out->node_info_yaml;
  rep << "\nfiles: " << out->qdq_path << ", " << out->fixed_path << ", " << out->kwm_path << "\n";
  out->report = rep.str();
  out->report_path = out->out_dir + "/amp_report.txt";
  return write_file_atomic(out->report_path, out->report);
}

}  // namespace kaiwu::debug
