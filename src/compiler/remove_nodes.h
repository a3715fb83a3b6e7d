// Removal of the nodes at a model's boundary (model_parameters.remove_node_type / remove_node_name, spec
// horizon_ptq_spec.md §1.1, §4.1): Quantize, Dequantize, Transpose, Cast, Reshape and Softmax nodes that read a graph
// input or produce a graph output. Removing the QuantizeLinear after an input makes the model take the integer
// tensor; removing the DequantizeLinear before an output makes it return the integer tensor. The scale and zero
// point of every removed Quantize/Dequantize are recorded (DELETED_NODES) so that the user can quantize the inputs
// and dequantize the outputs. One definition of "removable" serves the removal and `kaiwu info`.
#pragma once
#include <string>
#include <vector>

#include "config/compile_config.h"
#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::compiler {

// The yaml type name of a node ("Quantize" for QuantizeLinear, "Dequantize" for DequantizeLinear, "Transpose",
// "Cast", "Reshape", "Softmax"), or "" when the node's type is not removable.
std::string removable_type_name(const ir::Node& n);

struct BoundaryNode {
  size_t node = 0;           // index in graph.nodes
  std::string name, op_type, type;  // type: the yaml type name
  bool at_input = false;     // true: reads graph input `io`; false: produces graph output `io`
  std::string io;
};

// The nodes removable now: a node of a removable type (default domain, one output, every input other than the
// data input 0 a constant) that either reads a graph input read by no other node, or produces a graph output from
// a tensor computed in the graph (not a graph input or another output). Quantize only at an input, Dequantize
// only at an output. Graph order.
std::vector<BoundaryNode> removable_boundary_nodes(const ir::Graph& g);

struct RemovedNode {
  std::string name, op_type, type;
  bool at_input = false;
  std::string io;                   // the graph input / output (its name is kept)
  std::string dtype;                // the tensor's element type after the removal ("int8", "int32", "float32", ...)
  std::vector<float> scale;         // Quantize / Dequantize only
  std::vector<int64_t> zero_point;  // Quantize / Dequantize only (zeros when the node has none)
  int64_t axis = 1;                 // Quantize / Dequantize: the per-channel axis when scale has several values
};

// Removes, in this order, every boundary node of each type of `types` (repeatedly: a node that reaches the boundary
// by a removal of the same entry goes too), then each node of `names`. The graph inputs/outputs keep their names
// and take the dtype/shape of the tensor behind the removed node. A name that matches no node, or a node that is
// not at the boundary at its turn, is an error naming it; a type that removes nothing adds a line to `warnings`
// (with the reason for Quantize when the preprocessing folded the input quantization). `log` gets one
// "Remove node X (type)" line per removal.
Status remove_boundary_nodes(const std::vector<std::string>& types, const std::vector<std::string>& names,
                             ir::Model* m, std::vector<RemovedNode>* removed, std::vector<std::string>* log,
                             std::vector<std::string>* warnings);

// DELETED_NODES as JSON (a list of objects: name, type, op_type, input or output, dtype, scale, zero_point, axis).
std::string deleted_nodes_json(const std::vector<RemovedNode>& removed);
// The compile hook: applies model.remove_node_type / remove_node_name to a copy of the fixed-point model `fixed`
// into `removed` and makes its deployable model `removed_deployable` (optimized for the CPU like the full one).
// `*any` false (and the outputs untouched) when nothing was configured or removed.
Status make_removed_models(const config::ModelParameters& model, const ir::Model& fixed, ir::Model* removed,
                           ir::Model* removed_deployable, bool* any, std::vector<std::string>* log,
                           std::vector<std::string>* warnings);

// The metadata key that holds it in the removed model.
inline constexpr const char* kDeletedNodesKey = "kaiwu.deleted_nodes";

}  // namespace kaiwu::compiler
