#include "compiler/pipeline.h"

#include <cctype>
#include <iomanip>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "frontend/onnx/onnx_import.h"
#include "ir/graph_edit.h"
#include "ops/graph_shapes.h"
#include "ops/op_def.h"
#include "passes/passes.h"

namespace kaiwu::compiler {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt(double v, int prec) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(prec) << v;
  return os.str();
}

Status load_float_model(const std::string& path, ir::Model* out) {
  KW_RETURN_IF_ERROR(frontend::load_onnx(path, out));
  return ops::check_supported(out->graph).with_context(path);
}

std::vector<config::ModelInput> model_inputs_of(const ir::Model& m) {
  std::vector<config::ModelInput> r;
  for (const auto& v : m.graph.inputs) {
    config::ModelInput mi{v.name, {}};
    for (const auto& d : v.dims) mi.shape.push_back(d.is_static() ? d.value : -1);
    r.push_back(mi);
  }
  return r;
}

Status set_output_nodes(const std::vector<std::string>& nodes, const std::map<std::string, Shape>& input_shapes,
                        ir::Model* m) {
  if (nodes.empty()) return Status::Ok();
  ir::Graph& g = m->graph;
  ops::GraphShapes gs = ops::infer_graph_shapes(*m, input_shapes);
  std::vector<ir::ValueInfo> outs;
  for (const auto& name : nodes) {
    const ir::Node* found = nullptr;
    for (const auto& n : g.nodes)
      if (n.name == name) found = &n;
    if (!found) return not_found("model_parameters.output_nodes: no node named '" + name + "' in the model");
    for (const auto& o : found->outputs) {
      if (o.empty()) continue;
      ir::ValueInfo v;
      v.name = o;
      auto it = gs.desc.find(o);
      if (it != gs.desc.end()) {
        v.dtype = it->second.dtype;
        v.has_shape = true;
        for (int64_t d : it->second.shape) v.dims.push_back(ir::Dim::fixed(d));
      }
      outs.push_back(v);
    }
  }
  g.outputs = std::move(outs);
  ir::remove_dead_nodes(g);
  return g.verify();
}

Status optimize_float_model(const ir::Model& original, const std::map<std::string, Shape>& input_shapes,
                            ir::Model* optimized, Log* log) {
  *optimized = original;
  KW_RETURN_IF_ERROR(passes::optimize_standard(*optimized));
  // Decomposed HardSwish / HardSigmoid (paddle2onnx: x * Clip(x + 3, 0, 6) / 6) become the opset-14 ops, so that
  // they quantize as one table instead of four quantized steps (the x * Clip product needs a range 6x wider than the
  // result). Needs opset >= 14; per-channel QDQ needs >= 13.
  ir::Model fused = *optimized;
  bool changed = false;
  KW_RETURN_IF_ERROR(passes::fuse_hardswish(fused, &changed));
  const int64_t want = changed ? 14 : 13;
  if (changed) *optimized = std::move(fused);
  if (optimized->opset() < want) {
    KW_RETURN_IF_ERROR(passes::upgrade_opset(*optimized, want, &changed, input_shapes));
    if (log)
      log->info("opset upgraded from " + std::to_string(original.opset()) + " to " + std::to_string(want) +
                " for quantization");
  }
  return Status::Ok();
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One qtype of quant_config ("int8", "int16", "float32", "float16", "float") applied to a node.
Status apply_qtype(const std::string& where, const std::string& node, const std::string& qtype, const ir::Graph& graph,
                   quant::QuantOptions* q) {
  const std::string t = lower(qtype);
  if (q->all_int16 && t != "int16") {  // "every node int16" becomes the explicit set, so that this node can leave it
    for (const auto& n : graph.nodes) q->int16_nodes.insert(n.name);
    q->all_int16 = false;
  }
  if (t == "int16") {
    q->int16_nodes.insert(node);
    q->float_nodes.erase(node);
  } else if (t == "float32" || t == "float16" || t == "float") {
    q->float_nodes.insert(node);
    q->int16_nodes.erase(node);
  } else if (t == "int8") {
    q->int16_nodes.erase(node);
    q->float_nodes.erase(node);
  } else {
    return invalid_argument(where + ": unknown qtype '" + qtype + "' (int8, int16, float16, float32)");
  }
  return Status::Ok();
}

}  // namespace

std::map<std::string, quant::TensorRange> quant_ranges(const calib::CalibrationTable& table) {
  std::map<std::string, quant::TensorRange> r;
  for (const auto& [name, e] : table.tensors) r[name] = {e.min, e.max, e.observed_min, e.observed_max};
  return r;
}

Status quant_options(const config::CompileConfig& cfg, const ir::Graph& graph, quant::QuantOptions* out) {
  quant::QuantOptions q;
  for (const auto& [node, info] : cfg.model.node_info) {
    if (info.on == "CPU") q.float_nodes.insert(node);
    // InputType int16: the node computes on int16 activations (inputs and outputs). OutputType int16 alone: only
    // its output tensors are int16; InputTypeN int16 alone: only its N-th input tensor (the producer and the other
    // readers adapt). A node not in the graph keeps the node-level meaning.
    const ir::Node* gn = nullptr;
    for (const auto& n : graph.nodes)
      if (n.name == node) gn = &n;
    if (info.input_type == "int16" || (!gn && (info.output_type == "int16"))) q.int16_nodes.insert(node);
    else if (info.output_type == "int16")
      for (const auto& o : gn->outputs) q.int16_tensors.insert(o);
    for (const auto& kv : info.input_type_at) {
      if (kv.second != "int16" || info.input_type == "int16") continue;
      if (gn && kv.first >= 0 && static_cast<size_t>(kv.first) < gn->inputs.size() && !gn->inputs[kv.first].empty())
        q.int16_tensors.insert(gn->inputs[kv.first]);
      else
        q.int16_nodes.insert(node);
    }
  }
  for (const auto& f : cfg.calibration.optimization) {
    if (f == "set_all_nodes_int16") q.all_int16 = true;
    if (f == "set_model_output_int16")  // the nodes producing the graph outputs
      for (const auto& n : graph.nodes)
        for (const auto& o : n.outputs)
          if (ir::is_graph_output(graph, o)) q.int16_nodes.insert(n.name);
  }
  q.asymmetric_activations = cfg.calibration.asymmetric;
  // quant_config (J6 HMCT): {"model_config": {"all_node_type": T}, "op_config": {OP: {"qtype": T}},
  //                          "node_config": {NODE: {"qtype": T}}}; later groups override earlier ones.
  if (!cfg.calibration.quant_config_json.empty()) {
    const std::string key = "calibration_parameters.quant_config";
    YAML::Node qc;
    try {
      qc = YAML::Load(cfg.calibration.quant_config_json);
    } catch (const YAML::Exception& e) {
      return invalid_argument(key + ": " + e.what());
    }
    if (qc["model_config"] && qc["model_config"]["all_node_type"]) {
      const std::string t = lower(qc["model_config"]["all_node_type"].as<std::string>());
      if (t == "int16") q.all_int16 = true;
      else if (t == "float32" || t == "float16" || t == "float")
        for (const auto& n : graph.nodes) q.float_nodes.insert(n.name);
      else if (t != "int8") return invalid_argument(key + ".model_config.all_node_type: unknown qtype '" + t + "'");
    }
    if (qc["op_config"] && qc["op_config"].IsMap())
      for (const auto& kv : qc["op_config"]) {
        const std::string op = lower(kv.first.as<std::string>());
        if (!kv.second["qtype"]) continue;
        const std::string t = kv.second["qtype"].as<std::string>();
        for (const auto& n : graph.nodes)
          if (lower(n.op_type) == op)
            KW_RETURN_IF_ERROR(apply_qtype(key + ".op_config." + op, n.name, t, graph, &q));
      }
    if (qc["node_config"] && qc["node_config"].IsMap())
      for (const auto& kv : qc["node_config"]) {
        const std::string node = kv.first.as<std::string>();
        if (!kv.second["qtype"]) continue;
        bool found = false;
        for (const auto& n : graph.nodes) found = found || n.name == node;
        if (!found) return not_found(key + ".node_config: no node named '" + node + "' in the model");
        KW_RETURN_IF_ERROR(apply_qtype(key + ".node_config." + node, node, kv.second["qtype"].as<std::string>(), graph, &q));
      }
  }
  *out = std::move(q);
  return Status::Ok();
}

std::vector<NodeRow> node_rows(const ir::Graph& optimized, const quant::QuantReport& report, const Cosines* calibrated,
                               const Cosines* quantized) {
  std::map<std::string, std::string> output_of;  // node name -> first output
  for (const auto& node : optimized.nodes)
    if (!node.outputs.empty()) output_of[node.name] = node.outputs[0];
  auto cosine = [&](const Cosines* c, const std::string& node) -> std::string {
    auto oit = output_of.find(node);
    if (!c || oit == output_of.end()) return "--";
    auto it = c->find(oit->second);
    return it == c->end() || it->second.samples == 0 ? "--" : fmt(it->second.value());
  };
  std::vector<NodeRow> rows;
  for (const auto& nr : report.nodes) {
    const bool is_conv = nr.op_type == "Conv" || nr.op_type == "Gemm" || nr.op_type == "ConvTranspose" ||
                         nr.op_type == "MatMul";
    if (!nr.fused_with.empty() && !is_conv) continue;
    const quant::NodeReport* act = nr.fused_with.empty() ? nullptr : report.find(nr.fused_with);
    const quant::NodeReport& shown = act ? *act : nr;
    NodeRow r;
    r.node = nr.name + (act ? "+" + act->name : "");
    r.type = nr.op_type + (act ? "+" + act->op_type : "");
    r.on = nr.where == quant::Precision::kFloat ? "CPU" : "BPU";
    r.threshold = shown.output_quantized ? fmt(shown.output_threshold) : "--";
    r.dtype = quant::precision_name(nr.where);
    r.calibrated_cosine = cosine(calibrated, shown.name);
    r.quantized_cosine = cosine(quantized, shown.name);
    r.why = nr.why;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace kaiwu::compiler
