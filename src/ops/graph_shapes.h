// Whole-graph shape inference with constant folding, for passes that need ranks and shapes before run time.
#pragma once
#include <map>
#include <string>

#include "ir/graph.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

struct GraphShapes {
  std::map<std::string, TensorDesc> desc;  // every value whose type/shape could be inferred
  std::map<std::string, Tensor> constants; // values known without inputs (initializers and folded ones)
  bool complete = false;                   // every node was inferred
};

// Infers shapes given concrete input shapes (`inputs` by name; missing inputs use their declared static shape,
// symbolic dims bound by `symbol_value`, default 1). Stops at the first node it cannot infer (complete = false).
GraphShapes infer_graph_shapes(const ir::Model& model, const std::map<std::string, Shape>& inputs = {},
                               int64_t batch_value = 1, int64_t symbol_value = 320);

}  // namespace kaiwu::ops
