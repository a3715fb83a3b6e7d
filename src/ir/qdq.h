// QuantizeLinear / DequantizeLinear and their ONNX domains, in one place.
//
// ONNX's QuantizeLinear / DequantizeLinear take 16-bit types only from opset 21 (and per-axis scales from opset 13).
// Below that, onnxruntime's own quantizer writes the same ops in the `com.microsoft` domain (contrib ops, version 1:
// same formula, optional `axis`, int8/uint8/int16/uint16 (+ int32 for DequantizeLinear), float or float16 scales).
// Kaiwu does the same:
//  - Inside the IR, Q/DQ nodes are kept in the default domain whatever their type (the ONNX importer maps
//    com.microsoft Q/DQ to it), so passes can match them by op_type. is_quantize_linear() / is_dequantize_linear()
//    accept both domains anyway, for IR built in code.
//  - The ONNX exporter gives each Q/DQ node the domain qdq_onnx_domain() picks for its type and the model's opset,
//    adds the `com.microsoft` opset import when used and keeps only the attributes the contrib ops know.
#pragma once
#include <string>

#include "ir/graph.h"

namespace kaiwu::ir {

inline constexpr const char* kMsDomain = "com.microsoft";
inline constexpr int64_t kMsDomainVersion = 1;

// True for the domains holding QuantizeLinear / DequantizeLinear: "", "ai.onnx" and "com.microsoft".
bool is_qdq_domain(const std::string& domain);
// QuantizeLinear of the default or the com.microsoft domain.
bool is_quantize_linear(const Node& n);
// DequantizeLinear of the default or the com.microsoft domain.
bool is_dequantize_linear(const Node& n);
// Either of the two.
inline bool is_qdq_node(const Node& n) { return is_quantize_linear(n) || is_dequantize_linear(n); }

// The integer type a Q/DQ node works on: its zero point's type, else (QuantizeLinear) `output_dtype` or uint8,
// else (DequantizeLinear) its input's type; types are looked up in initializers, graph inputs/outputs, value_info
// and Constant nodes, and through the producing QuantizeLinear. kUndefined when unknown.
DType qdq_integer_type(const Graph& g, const Node& n);
// True when the node's scale is known to hold more than one element (per-axis).
bool qdq_is_per_axis(const Graph& g, const Node& n);

// The ONNX domain a Q/DQ node needs in a model whose default-domain opset is `opset`: kMsDomain for 16-bit types
// before opset 21 and per-axis scales before opset 13, else "" (standard ONNX).
std::string qdq_onnx_domain(DType integer_type, bool per_axis, int64_t opset);

}  // namespace kaiwu::ir
