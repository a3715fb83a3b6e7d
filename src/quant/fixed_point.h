// Lowering of a QDQ model (P_ptq_model) into the fixed-point model (P_quantized_model): every node whose inputs are
// dequantized int8 activations (and int8 weights / int32 bias) and whose output is quantized again becomes one
// integer op reading and writing the integer tensors directly, so the requantization is explicit in the graph:
//
//   DQ(x) -> Conv [-> Relu|Clip] -> Q      QLinearConv (activation = saturation of the output range)
//   DQ(a), DQ(b) -> Add | Mul -> Q          kaiwu.QAdd | kaiwu.QMul
//   DQ(x) -> Div(x, float const) -> Q       kaiwu.Requantize (the divisor folds into the input scale)
//   DQ(x) -> unary op -> Q                  kaiwu.QLut (a table computed by the float op itself: 256 entries for
//                                           int8 inputs, 65536 for int16)
//   DQ(x) -> [Global]AveragePool -> Q       kaiwu.Q[Global]AveragePool
//   DQ(x) -> MaxPool | data movement -> Q   the same op on the integer tensor (same qparams in and out)
//   DQ(x_i) -> Concat -> Q                  kaiwu.Requantize on inputs with other qparams, then Concat
//
// int16 nodes (node_info / quant_config / set_all_nodes_int16) lower the same way: int16 QLinearConv (exact int64
// accumulation; the fast path splits x into two int8 halves for oneDNN), QAdd/QMul, 65536-entry QLut, pools, data
// movement; an int8 operand meeting an int16 one is converted exactly with Requantize.
// Everything else stays a float island between DequantizeLinear and QuantizeLinear (reported with the reason).
// Graph inputs and outputs stay float (QuantizeLinear after the inputs, DequantizeLinear before the outputs).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::quant {

struct LoweredNode {
  std::string name, op_type;  // the node of the QDQ model
  bool integer = false;       // true: became an integer op
  std::string how;            // the integer op, or why the node stays float
};

struct LowerReport {
  std::vector<LoweredNode> nodes;  // compute nodes of the QDQ model (not its Q/DQ nodes), in graph order
  int integer_count() const;
  int float_count() const;
};

// Builds the fixed-point model from the QDQ model `qdq` (left unchanged). `report` may be null.
Status lower_to_fixed_point(const ir::Model& qdq, ir::Model* out, LowerReport* report);

// For evaluation: adds to the fixed-point model `fixed` a DequantizeLinear per float tensor of `names` that the
// lowering turned into an integer tensor (QuantizeLinear(name) of `qdq`), so that `name` is computed again as
// float values, for comparison with the float model. Names already in `fixed` or never quantized are skipped.
Status expose_dequantized(const ir::Model& qdq, const std::vector<std::string>& names, ir::Model* fixed);

}  // namespace kaiwu::quant
