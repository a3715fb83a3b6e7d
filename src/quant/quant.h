// Post-training quantization: turns an optimized float model (standard ONNX ops, BatchNormalization folded) plus
// per-tensor activation ranges into a QDQ model (standard ONNX QuantizeLinear / DequantizeLinear around the nodes
// that run in integer), and reports where every node runs and why.
//
// Conventions:
//  - activations: per-tensor, int8 (or int16 for selected nodes), symmetric by default (zero point 0) or asymmetric;
//  - weights: int8 symmetric, per output channel (Conv axis 0, ConvTranspose axis 1, Gemm axis 0 with transB=1 or
//    1 with transB=0, MatMul the last axis) when the opset allows per-axis DequantizeLinear (>= 13), else per tensor;
//  - bias: int32, scale = input_scale * weight_scale[c], zero point 0 (DequantizeLinear of an int32 initializer);
//  - graph inputs stay float: the first QuantizeLinear sits right after the input; graph outputs keep their names
//    and float values (consumers inside the graph read the dequantized value when the producer is quantized).
#pragma once
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::quant {

// Observed float range of one tensor (from calibration).
struct TensorRange {
  float min = 0.f, max = 0.f;  // the calibration method's range (possibly clipped: percentile, KL, MSE)
  // The observed (unclipped) range, used instead when the tensor is int16: 65536 levels resolve the whole range,
  // so clipping outliers only loses accuracy there. NaN: not known (the clipped range is used).
  float observed_min = std::numeric_limits<float>::quiet_NaN();
  float observed_max = std::numeric_limits<float>::quiet_NaN();
};

// Quantization parameters given as is (calibration_type load): int8 or int16 scale and zero point.
struct FixedQParams {
  float scale = 1.f;
  int32_t zero_point = 0;
  bool int16 = false;  // the zero point's type: int16 (else int8)
};

enum class Precision { kInt8, kInt16, kFloat };

// How a weight channel's symmetric int8 range is chosen: its max |w| (kMax), or the clip in [0.5, 1] x max |w|
// minimising the channel's quantization MSE (kMse).
enum class WeightRange { kMax, kMse };
const char* weight_range_name(WeightRange r);  // "max", "mse"

// A weight quantized to int8 symmetric: values in the weight's layout, one scale per channel of `axis` (or one
// scale, axis -1).
struct QuantizedWeight {
  Tensor q;
  std::vector<float> scales;
  int axis = -1;
};

// The per-channel (axis >= 0) or per-tensor scales of `w` for int8 symmetric quantization. Error: a non-finite value.
Status weight_scales(const Tensor& w, int axis, WeightRange range, std::vector<float>* scales);
// Quantizes `w` with weight_scales and round-half-even.
Status quantize_weight(const Tensor& w, int axis, WeightRange range, QuantizedWeight* out);
const char* precision_name(Precision p);  // "int8", "int16", "float"

struct QuantOptions {
  bool asymmetric_activations = false;  // false: symmetric (zero point 0)
  bool per_channel_weights = true;      // false (or opset < 13): one weight scale per tensor
  std::set<std::string> float_nodes;    // node names kept in float (run_on_cpu / node_info ON: CPU)
  std::set<std::string> int16_nodes;    // node names with int16 activations
  std::set<std::string> int16_tensors;  // activation tensors quantized to int16 (their producer and readers adapt)
  bool all_int16 = false;               // every quantized node uses int16 activations (`all`)
  // false: only activations get QuantizeLinear/DequantizeLinear; weights, biases and float constants read as
  // activations stay float (the "calibrated" stage model, which isolates the activation quantization error).
  bool quantize_weights = true;
  // Activation tensors whose scale / zero point are given (by tensor name), used instead of the range when the
  // tensor's precision matches (int8 / int16); otherwise the range still applies.
  std::map<std::string, FixedQParams> fixed_qparams;
  // Weight quantization (calibration refinements, see compiler/calib_refine.h): the range of each weight channel;
  // weights quantized beforehand by node name (AdaRound-style rounding; used when axis and shape match the rule's);
  // float corrections added to a node's bias (one per output channel) before the bias is quantized to int32.
  WeightRange weight_range = WeightRange::kMax;
  std::map<std::string, QuantizedWeight> given_weights;
  std::map<std::string, std::vector<float>> bias_delta;
};

// One node of the report.
struct NodeReport {
  std::string name, op_type;
  Precision where = Precision::kFloat;
  std::string why;           // the rule applied or the reason the node stays float
  std::string fused_with;    // Conv/Gemm <-> the Relu/Clip whose output range it uses (log rows "conv+relu")
  bool output_quantized = false;
  float output_scale = 0.f;  // scale of output 0 when quantized (threshold = scale * qmax)
  int32_t output_zero_point = 0;
  float output_threshold = 0.f;
};

// Quantization parameters of one activation tensor that got a QuantizeLinear/DequantizeLinear pair.
struct TensorQuant {
  std::string name;
  Precision precision = Precision::kInt8;
  float scale = 1.f;
  int32_t zero_point = 0;
  std::string shared_with;  // non-empty: the tensor whose qparams this one reuses (data movement, max pooling)
};

struct QuantReport {
  std::vector<NodeReport> nodes;  // in graph order
  std::vector<TensorQuant> tensors;  // every quantized activation tensor, in graph order
  std::vector<std::string> notes;  // model-level remarks (e.g. int16 QDQ written as com.microsoft ops below opset 21)
  // Counts by precision.
  int count(Precision p) const;
  // The entry of node `name`, or null.
  const NodeReport* find(const std::string& name) const;
  // A fixed-width text table (name, op, where, scale, why).
  std::string to_string() const;
};

// Rewrites `m` in place into a QDQ model. `ranges` holds the float range of every activation tensor that gets
// quantized (keyed by ONNX tensor name); a missing one is an error naming the tensor and its node. `report` may be
// null. Nodes without an integer rule stay float and are reported with the reason.
Status insert_qdq(ir::Model& m, const std::map<std::string, TensorRange>& ranges, const QuantOptions& opt,
                  QuantReport* report);

}  // namespace kaiwu::quant
