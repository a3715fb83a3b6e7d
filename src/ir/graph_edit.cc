#include "ir/graph_edit.h"

namespace kaiwu::ir {

std::map<std::string, std::vector<Use>> uses_of(const Graph& g) {
  std::map<std::string, std::vector<Use>> u;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (size_t k = 0; k < g.nodes[i].inputs.size(); ++k)
      if (!g.nodes[i].inputs[k].empty()) u[g.nodes[i].inputs[k]].push_back({i, k});
  return u;
}

bool is_graph_output(const Graph& g, const std::string& v) {
  for (const auto& o : g.outputs)
    if (o.name == v) return true;
  return false;
}

std::string unique_value_name(const Graph& g, const std::string& base) {
  std::set<std::string> used;
  for (const auto& v : g.inputs) used.insert(v.name);
  for (const auto& kv : g.initializers) used.insert(kv.first);
  for (const auto& kv : g.value_info) used.insert(kv.first);
  for (const auto& n : g.nodes) {
    used.insert(n.name);
    for (const auto& o : n.outputs) used.insert(o);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!used.count(c)) return c;
  }
}

size_t remove_dead_nodes(Graph& g) {
  size_t removed = 0;
  for (;;) {
    std::set<std::string> read;
    for (const auto& n : g.nodes)
      if (!n.op_type.empty())
        for (const auto& i : n.inputs) read.insert(i);
    for (const auto& o : g.outputs) read.insert(o.name);
    std::vector<Node> kept;
    size_t before = g.nodes.size();
    for (auto& n : g.nodes) {
      if (n.op_type.empty()) continue;
      bool live = false;
      for (const auto& o : n.outputs)
        if (!o.empty() && read.count(o)) live = true;
      if (live) kept.push_back(std::move(n));
    }
    g.nodes = std::move(kept);
    removed += before - g.nodes.size();
    if (before == g.nodes.size()) {
      for (auto it = g.initializers.begin(); it != g.initializers.end();)
        it = read.count(it->first) ? std::next(it) : g.initializers.erase(it);
      return removed;
    }
  }
}

void replace_uses(Graph& g, const std::string& from, const std::string& to) {
  for (auto& n : g.nodes)
    for (auto& i : n.inputs)
      if (i == from) i = to;
}

}  // namespace kaiwu::ir
