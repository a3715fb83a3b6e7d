// Gemm / MatMul: with a constant 2-D right operand, int8 per-channel weight (output-column axis) and, for Gemm with
// alpha = beta = 1 and a 1-D C of N entries, an int32 bias; with two activations, both inputs quantized per tensor.
#include "quant/rules.h"

namespace kaiwu::quant::detail {

bool matmul_rule(const RuleContext& ctx, NodePlan* plan) {
  const ir::Node& n = ctx.node;
  const bool gemm = n.op_type == "Gemm";
  if (!gemm && n.op_type != "MatMul") return false;
  if (!n.has_input(0) || !n.has_input(1)) return keep_float(plan, "missing input");
  if (!ctx.is_float(n.inputs[0]) || !ctx.is_float(n.inputs[1])) return keep_float(plan, "inputs are not float");
  const Tensor* w = ctx.constant(n.inputs[1]);
  if (w && w->dtype() != DType::kF32) return keep_float(plan, "weight is not float");
  if (!w) {
    set_quantized(ctx, plan, "int matmul of two activations");
    plan->act_inputs = {0, 1};
    plan->quantize_outputs = true;
    return true;
  }
  if (w->rank() < 1) return keep_float(plan, "scalar weight");
  set_quantized(ctx, plan, gemm ? "int gemm" : "int matmul");
  plan->act_inputs = {0};
  plan->weight_input = 1;
  if (gemm) {
    if (w->rank() != 2) return keep_float(plan, "Gemm weight is not 2-D");
    plan->weight_axis = n.attr_int("transB", 0) ? 0 : 1;
    const bool unit = n.attr_float("alpha", 1.f) == 1.f && n.attr_float("beta", 1.f) == 1.f;
    if (n.has_input(2) && unit) {
      const Tensor* c = ctx.constant(n.inputs[2]);
      if (c && c->dtype() == DType::kF32 && c->rank() == 1 && c->dim(0) == w->dim(plan->weight_axis))
        plan->bias_input = 2;
    }
  } else {
    plan->weight_axis = w->rank() >= 2 ? w->rank() - 1 : -1;
  }
  plan->quantize_outputs = true;
  if (try_fuse_activation(ctx, plan)) plan->quantize_outputs = false;
  return true;
}

}  // namespace kaiwu::quant::detail
