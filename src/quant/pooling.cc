// Pooling: MaxPool (and GlobalMaxPool) outputs share the input's qparams (max of quantized values is exact);
// AveragePool / GlobalAveragePool outputs get their own range.
#include "quant/rules.h"

namespace kaiwu::quant::detail {

bool pooling_rule(const RuleContext& ctx, NodePlan* plan) {
  const ir::Node& n = ctx.node;
  const bool max = n.op_type == "MaxPool" || n.op_type == "GlobalMaxPool";
  const bool avg = n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool";
  if (!max && !avg) return false;
  if (!n.has_input(0) || !ctx.is_float(n.inputs[0])) return keep_float(plan, "input is not float");
  if (max && n.outputs.size() > 1 && !n.outputs[1].empty()) return keep_float(plan, "MaxPool indices output used");
  set_quantized(ctx, plan, max ? "int max pooling, output shares the input qparams" : "int average pooling");
  plan->act_inputs = {0};
  if (max)
    plan->outputs_share_input = true;
  else
    plan->quantize_outputs = true;
  return true;
}

}  // namespace kaiwu::quant::detail
