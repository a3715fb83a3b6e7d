// Exact comparison of two ir::Models for the deployable round-trip tests (floats and tensor data bit for bit).
#pragma once
#include <cstring>
#include <sstream>
#include <string>

#include "ir/graph.h"

namespace kaiwu::test {

inline bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

inline bool same_value(const ir::ValueInfo& a, const ir::ValueInfo& b) {
  if (a.name != b.name || a.dtype != b.dtype || a.has_shape != b.has_shape || a.dims.size() != b.dims.size())
    return false;
  for (size_t i = 0; i < a.dims.size(); ++i)
    if (a.dims[i].value != b.dims[i].value || a.dims[i].param != b.dims[i].param) return false;
  return true;
}

inline bool same_attr(const ir::Attribute& a, const ir::Attribute& b) {
  if (a.kind != b.kind) return false;
  using K = ir::Attribute::Kind;
  switch (a.kind) {
    case K::kInt: return a.i == b.i;
    case K::kFloat: return std::memcmp(&a.f, &b.f, sizeof(float)) == 0;
    case K::kString: return a.s == b.s;
    case K::kInts: return a.ints == b.ints;
    case K::kFloats:
      return a.floats.size() == b.floats.size() &&
             (a.floats.empty() || std::memcmp(a.floats.data(), b.floats.data(), a.floats.size() * 4) == 0);
    case K::kStrings: return a.strings == b.strings;
    case K::kTensor: return same_tensor(a.t, b.t);
  }
  return false;
}

// Empty when equal, else the first difference.
inline std::string model_diff(const ir::Model& a, const ir::Model& b) {
  std::ostringstream os;
  if (a.ir_version != b.ir_version) return "ir_version";
  if (a.opsets != b.opsets) return "opsets";
  if (a.producer_name != b.producer_name || a.producer_version != b.producer_version) return "producer";
  if (a.doc_string != b.doc_string) return "doc_string";
  if (a.metadata != b.metadata) return "metadata";
  const ir::Graph &g = a.graph, &h = b.graph;
  if (g.name != h.name) return "graph name";
  if (g.inputs.size() != h.inputs.size()) return "input count";
  for (size_t i = 0; i < g.inputs.size(); ++i)
    if (!same_value(g.inputs[i], h.inputs[i])) return "input " + g.inputs[i].name;
  if (g.outputs.size() != h.outputs.size()) return "output count";
  for (size_t i = 0; i < g.outputs.size(); ++i)
    if (!same_value(g.outputs[i], h.outputs[i])) return "output " + g.outputs[i].name;
  if (g.value_info.size() != h.value_info.size()) return "value_info count";
  for (auto it = g.value_info.begin(), jt = h.value_info.begin(); it != g.value_info.end(); ++it, ++jt)
    if (it->first != jt->first || !same_value(it->second, jt->second)) return "value_info " + it->first;
  if (g.initializers.size() != h.initializers.size()) return "initializer count";
  for (auto it = g.initializers.begin(), jt = h.initializers.begin(); it != g.initializers.end(); ++it, ++jt)
    if (it->first != jt->first || !same_tensor(it->second, jt->second)) return "initializer " + it->first;
  if (g.nodes.size() != h.nodes.size()) return "node count";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node &n = g.nodes[i], &o = h.nodes[i];
    if (n.name != o.name || n.op_type != o.op_type || n.domain != o.domain) return "node " + n.name + " identity";
    if (n.inputs != o.inputs || n.outputs != o.outputs) return "node " + n.name + " inputs/outputs";
    if (n.attrs.size() != o.attrs.size()) return "node " + n.name + " attribute count";
    for (auto it = n.attrs.begin(), jt = o.attrs.begin(); it != n.attrs.end(); ++it, ++jt)
      if (it->first != jt->first || !same_attr(it->second, jt->second)) return "node " + n.name + " attr " + it->first;
  }
  return "";
}

}  // namespace kaiwu::test
