// The graph IR: values (named tensors with dtype and possibly symbolic shape), nodes, initializers, the model.
// Values are identified by name, as in ONNX; an empty input name marks an omitted optional input.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::ir {

// A dimension: a static size (value >= 0) or a symbolic one (param, possibly empty when unknown).
struct Dim {
  int64_t value = -1;
  std::string param;
  static Dim fixed(int64_t v) { Dim d; d.value = v; return d; }
  static Dim symbol(std::string p) { Dim d; d.param = std::move(p); return d; }
  bool is_static() const { return value >= 0; }
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> dims;
  // Static shape if every dim is static.
  std::optional<Shape> static_shape() const;
  std::string shape_string() const;  // "[N, 3, 224, 224]"
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t attr_int(const std::string& k, int64_t def) const;
  float attr_float(const std::string& k, float def) const;
  std::string attr_string(const std::string& k, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& k, const std::vector<int64_t>& def = {}) const;
  std::vector<float> attr_floats(const std::string& k, const std::vector<float>& def = {}) const;
  const Attribute* attr(const std::string& k) const;
  // Number of inputs, counting omitted optional ones in the middle but not trailing empty names.
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  // "Conv 'conv1'" for messages.
  std::string describe() const;
};

class Graph {
 public:
  std::string name;
  std::vector<ValueInfo> inputs;   // graph inputs (initializers are not listed here)
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> initializers;
  std::map<std::string, ValueInfo> value_info;  // optional intermediate type/shape annotations
  std::vector<Node> nodes;

  bool is_initializer(const std::string& v) const { return initializers.count(v) != 0; }
  const ValueInfo* find_input(const std::string& name) const;
  // Map from value name to the index of the node producing it.
  std::map<std::string, size_t> producers() const;
  // Reorders nodes topologically (stable). Fails naming the nodes on a cycle or an undefined input.
  Status topo_sort();
  // Checks: unique value names, every input defined, no cycle, outputs produced, valid names.
  Status verify() const;
};

struct Model {
  int64_t ir_version = 8;
  std::map<std::string, int64_t> opsets;  // domain -> version ("" is ai.onnx)
  std::string producer_name, producer_version, doc_string;
  std::map<std::string, std::string> metadata;
  Graph graph;

  int64_t opset() const;  // ai.onnx opset version
};

// A readable text dump: inputs, initializers (shape only), nodes with attributes, outputs.
std::string dump(const Graph& g);

}  // namespace kaiwu::ir
