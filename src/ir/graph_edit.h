// Helpers for passes that rewrite a graph: use lists, unique names, dead-node removal.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kaiwu::ir {

struct Use {
  size_t node;
  size_t input;
};

// For every value, the (node, input slot) pairs that read it.
std::map<std::string, std::vector<Use>> uses_of(const Graph& g);
bool is_graph_output(const Graph& g, const std::string& value);
// A name not used by any value, node or value_info entry of the graph, derived from `base`.
std::string unique_value_name(const Graph& g, const std::string& base);
// Removes nodes whose op_type is empty (marked deleted) and nodes none of whose outputs is used (repeatedly).
// Also drops initializers no node reads. Returns the number of nodes removed.
size_t remove_dead_nodes(Graph& g);
// Rewrites every read of `from` into a read of `to` (graph outputs are not renamed).
void replace_uses(Graph& g, const std::string& from, const std::string& to);

}  // namespace kaiwu::ir
