// ONNX -> IR. Accepts opset 7..19 models (IR version up to 9) with tensors inline or in external data files.
#pragma once
#include <string>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::frontend {

// Loads an ONNX file. Errors name the file and what is wrong (not protobuf, truncated, missing graph, bad tensor).
Status load_onnx(const std::string& path, ir::Model* out);
// Parses ONNX bytes; `origin` names the source in messages; `base_dir` resolves external data.
Status parse_onnx(const std::string& bytes, const std::string& origin, const std::string& base_dir, ir::Model* out);

}  // namespace kaiwu::frontend

namespace kaiwu::frontend {
// Reads a serialized onnx::TensorProto file (the ONNX backend test-data layout); `name` receives its name.
Status read_tensor_pb(const std::string& path, Tensor* out, std::string* name = nullptr);
}  // namespace kaiwu::frontend
