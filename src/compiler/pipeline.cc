#include "compiler/pipeline.h"

#include <iomanip>
#include <sstream>

#include "frontend/onnx/onnx_import.h"
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

quant::QuantOptions quant_options(const config::CompileConfig& cfg) {
  quant::QuantOptions q;
  for (const auto& [node, info] : cfg.model.node_info) {
    if (info.on == "CPU") q.float_nodes.insert(node);
    if (info.input_type == "int16" || info.output_type == "int16") q.int16_nodes.insert(node);
    for (const auto& kv : info.input_type_at)
      if (kv.second == "int16") q.int16_nodes.insert(node);
  }
  for (const auto& f : cfg.calibration.optimization)
    if (f == "set_all_nodes_int16") q.all_int16 = true;
  q.asymmetric_activations = cfg.calibration.asymmetric;
  return q;
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
