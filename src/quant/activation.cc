// Activations. Relu / Clip right after a quantized Conv/Gemm/MatMul (its only consumer) are fused: the producer's
// output is not quantized and the activation's output range is used instead. Otherwise (and for Sigmoid, Tanh,
// HardSigmoid, HardSwish, LeakyRelu, Softmax, ...) the input is quantized and the output gets its own range.
#include <set>

#include "quant/rules.h"

namespace kaiwu::quant::detail {

namespace {

bool is_fusable(const RuleContext& ctx, const ir::Node& n) {
  if (n.op_type == "Relu") return true;
  if (n.op_type != "Clip") return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty() && !ctx.constant(n.inputs[i])) return false;
  return true;
}

}  // namespace

bool try_fuse_activation(const RuleContext& ctx, NodePlan* plan) {
  const ir::Node& n = ctx.node;
  if (n.outputs.size() != 1 || ir::is_graph_output(ctx.g, n.outputs[0])) return false;
  auto it = ctx.uses.find(n.outputs[0]);
  if (it == ctx.uses.end() || it->second.size() != 1 || it->second[0].input != 0) return false;
  const size_t ci = it->second[0].node;
  const ir::Node& c = ctx.g.nodes[ci];
  if (!c.domain.empty() || !is_fusable(ctx, c) || ctx.kept_float(ci)) return false;
  plan->fused_activation = static_cast<int>(ci);
  return true;
}

bool activation_rule(const RuleContext& ctx, NodePlan* plan) {
  static const std::set<std::string> kOwnRange = {"Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                                                  "LeakyRelu", "PRelu", "Softmax", "Elu", "Selu", "Softplus",
                                                  "Gelu", "Erf", "Exp", "Neg", "Abs"};
  const ir::Node& n = ctx.node;
  if (!kOwnRange.count(n.op_type)) return false;
  if (!n.has_input(0) || !ctx.is_float(n.inputs[0])) return keep_float(plan, "input is not float");
  const long p = ctx.producer_of(n.inputs[0]);
  if (p >= 0 && ctx.plans[p].quantized && ctx.plans[p].fused_activation == static_cast<int>(ctx.index)) {
    set_quantized(ctx, plan, "fused into " + ctx.g.nodes[p].describe() + " (output range of the activation)");
    plan->quantize_outputs = true;
    return true;
  }
  set_quantized(ctx, plan, "int activation with its own output range");
  plan->act_inputs = {0};
  if (n.op_type == "PRelu" && n.has_input(1)) plan->act_inputs.push_back(1);  // slope: constant per tensor
  plan->quantize_outputs = true;
  return true;
}

}  // namespace kaiwu::quant::detail
