// The graph section of a deployable model: an ir::Model WITHOUT its initializers, as ONNX ModelProto bytes.
// Unlike the ONNX exporter/importer (which normalize names, versions and domains for interoperability), this codec
// is exact: every field of ir::Model except the initializers round-trips unchanged (node names even when empty or
// repeated, ir_version, an empty opset map, empty optional inputs, value_info, every attribute kind and dtype).
#pragma once
#include <string>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::deploy {

// Serializes everything but m.graph.initializers (which are referenced by name from node inputs).
Status encode_graph(const ir::Model& m, std::string* bytes);
// Parses bytes written by encode_graph into `m` (initializers left empty). `origin` names the file in messages.
Status decode_graph(const char* data, size_t size, const std::string& origin, ir::Model* m);

}  // namespace kaiwu::deploy
