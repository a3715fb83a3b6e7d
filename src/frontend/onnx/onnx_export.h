// IR -> ONNX. Writes models that onnx.checker accepts and onnxruntime runs (IR version >= 7, tensors as raw_data).
#pragma once
#include <string>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::frontend {

// Serializes the model to ONNX bytes.
Status serialize_onnx(const ir::Model& model, std::string* bytes);
// Writes the model to `path` atomically.
Status save_onnx(const ir::Model& model, const std::string& path);

}  // namespace kaiwu::frontend
