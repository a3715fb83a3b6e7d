#include "compiler/load_qparams.h"

#include <cmath>

#include "frontend/onnx/onnx_import.h"
#include "ir/graph_edit.h"

namespace kaiwu::compiler {
namespace {

// The constant value of `name`: an initializer or the output of a Constant node with a `value` tensor.
const Tensor* constant_of(const ir::Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  if (it != g.initializers.end()) return &it->second;
  for (const auto& n : g.nodes)
    if (n.op_type == "Constant" && !n.outputs.empty() && n.outputs[0] == name) {
      auto a = n.attrs.find("value");
      if (a != n.attrs.end() && a->second.kind == ir::Attribute::Kind::kTensor) return &a->second.t;
    }
  return nullptr;
}

}  // namespace

Status load_qparams_from_qdq_model(const std::string& path, LoadedQParams* out) {
  *out = LoadedQParams();
  ir::Model m;
  KW_RETURN_IF_ERROR(frontend::load_onnx(path, &m).with_context("calibration_parameters.load_model"));
  for (const auto& n : m.graph.nodes) {
    if (n.op_type != "QuantizeLinear" || n.inputs.size() < 2 || n.inputs[0].empty()) continue;
    const Tensor* s = constant_of(m.graph, n.inputs[1]);
    if (!s || s->numel() != 1 || s->dtype() != DType::kF32) continue;  // per-axis or not constant
    quant::FixedQParams q;
    q.scale = s->data<float>()[0];
    DType zt = DType::kU8;
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
      const Tensor* z = constant_of(m.graph, n.inputs[2]);
      if (!z || z->numel() != 1) continue;
      zt = z->dtype();
      q.zero_point = static_cast<int32_t>(z->get_f64(0));
    }
    switch (zt) {
      case DType::kU8: q.zero_point -= 128; break;
      case DType::kI8: break;
      case DType::kU16: q.zero_point -= 32768; q.int16 = true; break;
      case DType::kI16: q.int16 = true; break;
      default: continue;  // float8 / int4 ...: not a kaiwu activation type
    }
    if (!(q.scale > 0.f) || !std::isfinite(q.scale))
      return invalid_argument("'" + path + "': QuantizeLinear " + n.describe() + " has scale " +
                              std::to_string(q.scale) + " (must be finite and > 0)");
    const int32_t qmin = q.int16 ? -32768 : -128, qmax = q.int16 ? 32767 : 127;
    out->qparams[n.inputs[0]] = q;
    out->ranges[n.inputs[0]] = {(qmin - q.zero_point) * q.scale, (qmax - q.zero_point) * q.scale};
  }
  if (out->qparams.empty())
    return invalid_argument("'" + path + "' (calibration_parameters.load_model) has no QuantizeLinear with a "
                            "per-tensor constant scale: nothing to load");
  return Status::Ok();
}

std::vector<std::string> complete_through_relu(const ir::Graph& g, LoadedQParams* loaded) {
  std::vector<std::string> filled;
  const auto uses = ir::uses_of(g);
  for (const auto& [tensor, us] : uses) {
    if (us.empty() || loaded->qparams.count(tensor)) continue;
    std::string source;
    bool ok = true;
    for (const auto& u : us) {
      const ir::Node& c = g.nodes[u.node];
      if ((c.op_type != "Relu" && c.op_type != "Clip") || u.input != 0 || c.outputs.empty() ||
          !loaded->qparams.count(c.outputs[0]) || (!source.empty() && source != c.outputs[0])) {
        ok = false;
        break;
      }
      source = c.outputs[0];
    }
    if (!ok || source.empty()) continue;
    loaded->qparams[tensor] = loaded->qparams[source];
    loaded->ranges[tensor] = loaded->ranges[source];
    filled.push_back(tensor + " <- " + source);
  }
  return filled;
}

}  // namespace kaiwu::compiler
