// Data-movement ops (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Slice, Split, ...): when their input already
// carries quantized values, they run on integers and every output shares the input's qparams. Otherwise they stay
// float (nothing to gain from quantizing a float tensor only to move it).
#include <set>

#include "quant/rules.h"

namespace kaiwu::quant::detail {

bool passthrough_rule(const RuleContext& ctx, NodePlan* plan) {
  static const std::set<std::string> kOps = {"Reshape", "Flatten",      "Transpose",    "Squeeze", "Unsqueeze",
                                             "Slice",   "Split",        "DepthToSpace", "SpaceToDepth",
                                             "Expand",  "Tile",         "Gather",       "Resize"};
  const ir::Node& n = ctx.node;
  if (!kOps.count(n.op_type)) return false;
  if (n.op_type == "Resize" && n.attr_string("mode", "nearest") != "nearest")
    return false;  // linear/cubic Resize computes new values: no shared-qparams rule
  if (!n.has_input(0) || !ctx.is_float(n.inputs[0])) return keep_float(plan, "input is not float");
  if (!ctx.is_quantized_tensor(n.inputs[0]))
    return keep_float(plan, "input '" + n.inputs[0] + "' is not quantized (data movement stays float)");
  set_quantized(ctx, plan, "data movement, output shares the input qparams");
  plan->act_inputs = {0};
  plan->outputs_share_input = true;
  return true;
}

}  // namespace kaiwu::quant::detail
