// Internal: per-op quantization rules. A rule looks at one node (and the plans already made for the nodes before
// it, in topological order) and fills a NodePlan: which inputs read quantized activations, which input is a weight
// (per-channel int8) or a bias (int32), and how the outputs get their quantization parameters.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/graph_edit.h"
#include "ops/graph_shapes.h"
#include "quant/quant.h"

namespace kaiwu::quant::detail {

struct NodePlan {
  bool quantized = false;
  Precision precision = Precision::kFloat;  // activation precision when quantized
  std::string why;
  std::vector<int> act_inputs;       // slots reading quantized values (activations or float constants per tensor)
  int weight_input = -1;             // constant weight slot, int8 symmetric
  int weight_axis = -1;              // per-channel axis of the weight, -1: per tensor
  int bias_input = -1;               // constant bias slot, int32 with scale act_inputs[0].scale * weight scale
  bool quantize_outputs = false;     // every float output gets its own qparams from its range
  bool outputs_share_input = false;  // every output reuses input 0's qparams (same values, no requantization)
  int fused_activation = -1;         // node index of the Relu/Clip whose output range covers this output
};

struct RuleContext {
  const ir::Graph& g;
  const ir::Node& node;
  size_t index;
  int64_t opset;
  const std::map<std::string, std::vector<ir::Use>>& uses;
  const std::map<std::string, size_t>& producers;
  const std::vector<NodePlan>& plans;  // valid for nodes before `index`
  const QuantOptions& opt;
  const ops::GraphShapes& shapes;

  // The activation precision this node gets if quantized.
  Precision precision() const;
  // True if v's dtype is float32 (or unknown, assumed float).
  bool is_float(const std::string& v) const;
  // The constant value of v (initializer or folded), or null.
  const Tensor* constant(const std::string& v) const;
  // True if node `i` is kept in float by the options.
  bool kept_float(size_t i) const;
  // True if v will carry quantized values (a QDQ pair after its producer): its producer is quantized and
  // quantizes or shares its outputs.
  bool is_quantized_tensor(const std::string& v) const;
  // The producer node index of v, or -1 (graph input / initializer).
  long producer_of(const std::string& v) const;
};

// Fills `plan` for the node and returns true when the op belongs to the rule's family (a node of the family may
// still stay float, with plan->why saying why); returns false for ops it does not know.
using RuleFn = bool (*)(const RuleContext& ctx, NodePlan* plan);

// The rule for an op type, or null.
RuleFn find_rule(const std::string& op_type);

// Family rules (one file each).
bool conv_rule(const RuleContext& ctx, NodePlan* plan);         // conv.cc: Conv, ConvTranspose
bool matmul_rule(const RuleContext& ctx, NodePlan* plan);       // matmul.cc: Gemm, MatMul
bool elementwise_rule(const RuleContext& ctx, NodePlan* plan);  // elementwise.cc: Add, Sub, Mul, Div, Concat
bool pooling_rule(const RuleContext& ctx, NodePlan* plan);      // pooling.cc: MaxPool, AveragePool, Global*Pool
bool activation_rule(const RuleContext& ctx, NodePlan* plan);   // activation.cc: Relu, Clip, Sigmoid, ...
bool passthrough_rule(const RuleContext& ctx, NodePlan* plan);  // passthrough.cc: Reshape, Flatten, ...

// Shared helpers for the rules.
// Marks plan quantized at ctx.precision() with reason `why`.
void set_quantized(const RuleContext& ctx, NodePlan* plan, const std::string& why);
// Leaves the node float with reason `why`; returns true (the family handled it).
bool keep_float(NodePlan* plan, const std::string& why);
// If the node's only output feeds exactly one Relu/Clip (constant bounds) that is not kept float and the output
// is not a graph output, records that activation as fused and returns true.
bool try_fuse_activation(const RuleContext& ctx, NodePlan* plan);

}  // namespace kaiwu::quant::detail
