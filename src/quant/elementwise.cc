// Add / Sub / Mul / Concat: every input quantized with its own qparams (float constants per tensor), the output
// requantized to its own range. Div by a constant (x / 6 in hard-swish) quantizes x only: the constant divisor
// stays a float parameter that folds into the output requantization.
#include "quant/rules.h"

namespace kaiwu::quant::detail {

bool elementwise_rule(const RuleContext& ctx, NodePlan* plan) {
  const ir::Node& n = ctx.node;
  if (n.op_type == "Div") {
    if (n.inputs.size() != 2 || !ctx.is_float(n.inputs[0]) || !ctx.is_float(n.inputs[1]))
      return keep_float(plan, "inputs are not float");
    if (ctx.constant(n.inputs[0])) return keep_float(plan, "constant dividend");
    set_quantized(ctx, plan, ctx.constant(n.inputs[1]) ? "int division by a float constant" : "int division");
    plan->act_inputs = {0};
    if (!ctx.constant(n.inputs[1])) plan->act_inputs.push_back(1);
    plan->quantize_outputs = true;
    return true;
  }
  if (n.op_type != "Add" && n.op_type != "Sub" && n.op_type != "Mul" && n.op_type != "Concat") return false;
  std::vector<int> slots;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) continue;
    if (!ctx.is_float(n.inputs[i])) return keep_float(plan, "input '" + n.inputs[i] + "' is not float");
    slots.push_back(static_cast<int>(i));
  }
  if (slots.empty()) return keep_float(plan, "no input");
  set_quantized(ctx, plan, n.op_type == "Concat" ? "int concat, inputs requantized" : "int elementwise");
  plan->act_inputs = slots;
  plan->quantize_outputs = true;
  return true;
}

}  // namespace kaiwu::quant::detail
