// Conv / ConvTranspose: int8 (or int16) input, per-channel symmetric int8 weight, int32 bias; the output is
// quantized with its own range, or left float when a following Relu/Clip takes over the output range (fused).
#include "quant/rules.h"

namespace kaiwu::quant::detail {

bool conv_rule(const RuleContext& ctx, NodePlan* plan) {
  const ir::Node& n = ctx.node;
  if (n.op_type != "Conv" && n.op_type != "ConvTranspose") return false;
  if (!n.has_input(0) || !n.has_input(1)) return keep_float(plan, "missing input or weight");
  if (!ctx.is_float(n.inputs[0])) return keep_float(plan, "input is not float");
  const Tensor* w = ctx.constant(n.inputs[1]);
  if (!w || w->dtype() != DType::kF32) return keep_float(plan, "weight is not a float constant");
  if (w->rank() < 3) return keep_float(plan, "weight rank < 3");
  const bool transposed = n.op_type == "ConvTranspose";
  const int64_t group = n.attr_int("group", 1);
  set_quantized(ctx, plan, transposed ? "int conv-transpose" : "int conv");
  plan->act_inputs = {0};
  plan->weight_input = 1;
  // Output channels: Conv W [M, C/g, k...] axis 0; ConvTranspose W [C, M/g, k...] axis 1 (only when group == 1,
  // otherwise axis 1 has M/g entries, not M).
  plan->weight_axis = transposed ? (group == 1 ? 1 : -1) : 0;
  if (n.has_input(2)) {
    const Tensor* b = ctx.constant(n.inputs[2]);
    if (b && b->dtype() == DType::kF32 && b->rank() == 1) plan->bias_input = 2;
  }
  plan->quantize_outputs = true;
  if (try_fuse_activation(ctx, plan)) plan->quantize_outputs = false;
  return true;
}

}  // namespace kaiwu::quant::detail
