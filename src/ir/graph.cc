#include "ir/graph.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace kaiwu::ir {

const char* attribute_kind_name(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensor: return "tensor";
  }
  return "?";
}

std::optional<Shape> ValueInfo::static_shape() const {
  if (!has_shape) return std::nullopt;
  Shape s;
  for (const Dim& d : dims) {
    if (!d.is_static()) return std::nullopt;
    s.push_back(d.value);
  }
  return s;
}

std::string ValueInfo::shape_string() const {
  if (!has_shape) return "?";
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i].is_static() ? std::to_string(dims[i].value) : (dims[i].param.empty() ? "?" : dims[i].param);
  }
  return s + "]";
}

const Attribute* Node::attr(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? nullptr : &it->second;
}
int64_t Node::attr_int(const std::string& k, int64_t def) const {
  const Attribute* a = attr(k);
  return a ? a->i : def;
}
float Node::attr_float(const std::string& k, float def) const {
  const Attribute* a = attr(k);
  return a ? a->f : def;
}
std::string Node::attr_string(const std::string& k, const std::string& def) const {
  const Attribute* a = attr(k);
  return a ? a->s : def;
}
std::vector<int64_t> Node::attr_ints(const std::string& k, const std::vector<int64_t>& def) const {
  const Attribute* a = attr(k);
  return a ? a->ints : def;
}
std::vector<float> Node::attr_floats(const std::string& k, const std::vector<float>& def) const {
  const Attribute* a = attr(k);
  return a ? a->floats : def;
}
std::string Node::describe() const { return op_type + " node '" + name + "'"; }

const ValueInfo* Graph::find_input(const std::string& n) const {
  for (const auto& v : inputs)
    if (v.name == n) return &v;
  return nullptr;
}

std::map<std::string, size_t> Graph::producers() const {
  std::map<std::string, size_t> p;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (!o.empty()) p[o] = i;
  return p;
}

Status Graph::topo_sort() {
  std::set<std::string> available;
  for (const auto& v : inputs) available.insert(v.name);
  for (const auto& kv : initializers) available.insert(kv.first);
  auto prod = producers();
  std::vector<size_t> order;
  std::vector<int> state(nodes.size(), 0);  // 0 new, 1 on stack, 2 done
  // Iterative DFS to keep stable order and detect cycles.
  for (size_t root = 0; root < nodes.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [n, k] = stack.back();
      if (k < nodes[n].inputs.size()) {
        const std::string& in = nodes[n].inputs[k++];
        if (in.empty() || available.count(in)) continue;
        auto it = prod.find(in);
        if (it == prod.end())
          return invalid_argument("input '" + in + "' of " + nodes[n].describe() +
                                  " is not a graph input, an initializer or the output of any node");
        size_t m = it->second;
        if (state[m] == 1) {
          std::string cycle;
          for (auto& e : stack) cycle += (cycle.empty() ? "" : " -> ") + nodes[e.first].name;
          return invalid_argument("the graph has a cycle through nodes: " + cycle + " -> " + nodes[m].name);
        }
        if (state[m] == 0) {
          state[m] = 1;
          stack.push_back({m, 0});
        }
      } else {
        state[n] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  return Status::Ok();
}

Status Graph::verify() const {
  std::set<std::string> defined;
  for (const auto& v : inputs) {
    if (v.name.empty()) return invalid_argument("a graph input has an empty name");
    if (!defined.insert(v.name).second) return invalid_argument("graph input '" + v.name + "' is defined twice");
  }
  for (const auto& kv : initializers) defined.insert(kv.first);
  for (const auto& n : nodes) {
    for (const auto& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        return invalid_argument("input '" + in + "' of " + n.describe() +
                                " is not defined before use (missing initializer, or a cycle)");
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!defined.insert(o).second)
        return invalid_argument("value '" + o + "' produced by " + n.describe() + " is defined more than once");
    }
  }
  for (const auto& o : outputs)
    if (!defined.count(o.name)) return invalid_argument("graph output '" + o.name + "' is never produced");
  return Status::Ok();
}

int64_t Model::opset() const {
  auto it = opsets.find("");
  if (it != opsets.end()) return it->second;
  it = opsets.find("ai.onnx");
  return it != opsets.end() ? it->second : 0;
}

std::string dump(const Graph& g) {
  std::ostringstream os;
  os << "graph " << g.name << "\n";
  for (const auto& v : g.inputs) os << "  input  " << v.name << ": " << dtype_name(v.dtype) << v.shape_string() << "\n";
  for (const auto& kv : g.initializers)
    os << "  const  " << kv.first << ": " << dtype_name(kv.second.dtype()) << shape_to_string(kv.second.shape()) << "\n";
  for (const auto& n : g.nodes) {
    os << "  ";
    for (size_t i = 0; i < n.outputs.size(); ++i) os << (i ? ", " : "") << n.outputs[i];
    os << " = " << (n.domain.empty() ? "" : n.domain + ".") << n.op_type << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i) os << (i ? ", " : "") << n.inputs[i];
    os << ")";
    if (!n.attrs.empty()) {
      os << " {";
      bool first = true;
      for (const auto& [k, a] : n.attrs) {
        os << (first ? "" : ", ") << k << "=";
        first = false;
        switch (a.kind) {
          case Attribute::Kind::kInt: os << a.i; break;
          case Attribute::Kind::kFloat: os << a.f; break;
          case Attribute::Kind::kString: os << '"' << a.s << '"'; break;
          case Attribute::Kind::kInts: os << shape_to_string(a.ints); break;
          case Attribute::Kind::kFloats: {
            os << "[";
            for (size_t i = 0; i < a.floats.size(); ++i) os << (i ? ", " : "") << a.floats[i];
            os << "]";
            break;
          }
          case Attribute::Kind::kStrings: {
            os << "[";
            for (size_t i = 0; i < a.strings.size(); ++i) os << (i ? ", " : "") << a.strings[i];
            os << "]";
            break;
          }
          case Attribute::Kind::kTensor: os << dtype_name(a.t.dtype()) << shape_to_string(a.t.shape()); break;
        }
      }
      os << "}";
    }
    os << "  # " << n.name << "\n";
  }
  for (const auto& v : g.outputs) os << "  output " << v.name << ": " << dtype_name(v.dtype) << v.shape_string() << "\n";
  return os.str();
}

}  // namespace kaiwu::ir
