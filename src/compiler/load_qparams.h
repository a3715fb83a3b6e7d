// calibration_type `load`: activation quantization parameters taken from a QDQ / QAT ONNX model.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"
#include "quant/quant.h"

namespace kaiwu::compiler {

struct LoadedQParams {
  std::map<std::string, quant::FixedQParams> qparams;  // by the QuantizeLinear's input tensor name
  std::map<std::string, quant::TensorRange> ranges;    // the float range each one represents
};

// Reads every QuantizeLinear of the ONNX model at `path` whose scale is a per-tensor constant (initializer or
// Constant node) and records its input tensor's scale and zero point. uint8 / uint16 zero points become the
// int8 / int16 equivalent (same scale, zero point - 128 / - 32768); a missing zero point means uint8 0 (ONNX).
// Per-axis (activation) scales are skipped. Errors: unreadable model, no usable QuantizeLinear at all.
Status load_qparams_from_qdq_model(const std::string& path, LoadedQParams* out);

// Fills in tensors of `float_graph` the loaded model does not quantize but whose every consumer is a Relu or a
// Clip with loaded qparams (quantizers such as onnxruntime's fuse Add+Relu and quantize only the Relu output):
// the tensor takes the consumer's qparams, which loses nothing the Relu/Clip would keep. Returns one line per
// tensor filled in ("tensor <- consumer").
std::vector<std::string> complete_through_relu(const ir::Graph& float_graph, LoadedQParams* loaded);

}  // namespace kaiwu::compiler
