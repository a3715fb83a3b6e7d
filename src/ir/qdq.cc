#include "ir/qdq.h"

namespace kaiwu::ir {
namespace {

// The element type of value v when the graph knows it (initializer, graph input, value_info, graph output, Constant
// node), else kUndefined.
DType known_type(const Graph& g, const std::string& v) {
  auto it = g.initializers.find(v);
  if (it != g.initializers.end()) return it->second.dtype();
  if (const ValueInfo* in = g.find_input(v)) return in->dtype;
  auto vi = g.value_info.find(v);
  if (vi != g.value_info.end()) return vi->second.dtype;
  for (const auto& o : g.outputs)
    if (o.name == v) return o.dtype;
  for (const auto& n : g.nodes)  // a Constant node's tensor
    if (n.op_type == "Constant" && n.domain.empty() && n.outputs.size() == 1 && n.outputs[0] == v) {
      const Attribute* a = n.attr("value");
      return a && a->kind == Attribute::Kind::kTensor ? a->t.dtype() : DType::kUndefined;
    }
  return DType::kUndefined;
}

// ONNX TensorProto element type of QuantizeLinear's output_dtype attribute, for the integer types it allows.
DType from_output_dtype(int64_t t) {
  switch (t) {
    case 2: return DType::kU8;
    case 3: return DType::kI8;
    case 4: return DType::kU16;
    case 5: return DType::kI16;
    default: return DType::kUndefined;
  }
}

}  // namespace

bool is_qdq_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx" || domain == kMsDomain;
}

bool is_quantize_linear(const Node& n) { return n.op_type == "QuantizeLinear" && is_qdq_domain(n.domain); }

bool is_dequantize_linear(const Node& n) { return n.op_type == "DequantizeLinear" && is_qdq_domain(n.domain); }

DType qdq_integer_type(const Graph& g, const Node& n) {
  if (!is_qdq_node(n)) return DType::kUndefined;
  if (n.has_input(2)) return known_type(g, n.inputs[2]);
  if (is_quantize_linear(n)) {
    const int64_t od = n.attr_int("output_dtype", 0);
    return od != 0 ? from_output_dtype(od) : DType::kU8;
  }
  if (!n.has_input(0)) return DType::kUndefined;
  DType t = known_type(g, n.inputs[0]);
  if (t != DType::kUndefined) return t;
  for (const auto& p : g.nodes)  // the producing QuantizeLinear
    for (const auto& o : p.outputs)
      if (o == n.inputs[0]) return is_quantize_linear(p) ? qdq_integer_type(g, p) : DType::kUndefined;
  return DType::kUndefined;
}

bool qdq_is_per_axis(const Graph& g, const Node& n) {
  if (!n.has_input(1)) return false;
  auto it = g.initializers.find(n.inputs[1]);
  if (it != g.initializers.end()) return it->second.numel() > 1;
  auto vi = g.value_info.find(n.inputs[1]);
  if (vi == g.value_info.end()) return false;
  auto shape = vi->second.static_shape();
  if (!shape) return false;
  int64_t numel = 1;
  for (int64_t d : *shape) numel *= d;
  return numel > 1;
}

std::string qdq_onnx_domain(DType integer_type, bool per_axis, int64_t opset) {
  const bool wide = integer_type == DType::kI16 || integer_type == DType::kU16;
  if (wide && opset < 21) return kMsDomain;
  if (per_axis && opset < 13) return kMsDomain;
  return "";
}

}  // namespace kaiwu::ir
