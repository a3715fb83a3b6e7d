// Builds small ir::Models in tests: typed inputs/outputs, initializers, and nodes (auto-named or named).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kaiwu::test {

struct ModelBuilder {
  ir::Model m;
  int k = 0;
  explicit ModelBuilder(int64_t opset = 13) { m.opsets[""] = opset; }
  void input(const std::string& name, Shape s) {
    ir::ValueInfo v;
    v.name = name;
    v.dtype = DType::kF32;
    v.has_shape = true;
    for (int64_t d : s) v.dims.push_back(ir::Dim::fixed(d));
    m.graph.inputs.push_back(v);
  }
  // An output; with a shape it is declared f32 of that shape, without it untyped.
  void output(const std::string& name, Shape s = {}) {
    ir::ValueInfo v;
    v.name = name;
    if (!s.empty()) {
      v.dtype = DType::kF32;
      v.has_shape = true;
      for (int64_t d : s) v.dims.push_back(ir::Dim::fixed(d));
    }
    m.graph.outputs.push_back(v);
  }
  void constant(const std::string& name, Tensor t) { m.graph.initializers[name] = std::move(t); }
  // A node named "<op><k>".
  ir::Node& node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
    return node(op + std::to_string(k++), op, std::move(in), std::move(out));
  }
  ir::Node& node(const std::string& name, const std::string& op, std::vector<std::string> in,
                 std::vector<std::string> out) {
    ir::Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    m.graph.nodes.push_back(n);
    return m.graph.nodes.back();
  }
};

}  // namespace kaiwu::test
