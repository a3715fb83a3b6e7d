// Pieces shared by `kaiwu compile -c` (compile.cc) and the check mode `kaiwu compile -m` (check.cc): loading and
// optimizing the float model, quantization options from the config, and the node rows of the report.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "calib/calib_table.h"
#include "compiler/eval.h"
#include "compiler/report.h"
#include "config/compile_config.h"
#include "ir/graph.h"
#include "kaiwu/status.h"
#include "quant/quant.h"

namespace kaiwu::compiler {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t);
std::string fmt(double v, int prec = 6);

// Loads the ONNX model at `path` and checks that Kaiwu supports every op (one message listing the others).
Status load_float_model(const std::string& path, ir::Model* out);
// The model's inputs as the config binding sees them (dynamic dims as -1).
std::vector<config::ModelInput> model_inputs_of(const ir::Model& m);
// The optimized float stage model: standard (pure ONNX) passes, opset raised to 13 for per-channel QDQ.
// `input_shapes` fix symbolic dims for the opset upgrade. Logs what it did when `log` is not null.
// model_parameters.output_nodes: the outputs of the named nodes become the model outputs (in the given order) and
// the nodes no output needs any more are removed. Unknown names are an error naming the key and the node.
Status set_output_nodes(const std::vector<std::string>& nodes, const std::map<std::string, Shape>& input_shapes,
                        ir::Model* m);
Status optimize_float_model(const ir::Model& original, const std::map<std::string, Shape>& input_shapes,
                            ir::Model* optimized, Log* log);
// QuantOptions from the config: node_info (ON: CPU, int16 types), optimization set_all_nodes_int16 and
// set_model_output_int16, asymmetric activations, and quant_config's model_config.all_node_type,
// op_config.<op>.qtype and node_config.<node>.qtype (int8 / int16 / float32 / float16; later groups win) for the
// nodes of `graph`. Errors name the key (unknown qtype, unknown node).
Status quant_options(const config::CompileConfig& cfg, const ir::Graph& graph, quant::QuantOptions* out);

// The quantizer's activation ranges from a calibration table (the method's range and the observed one).
std::map<std::string, quant::TensorRange> quant_ranges(const calib::CalibrationTable& table);

// The node table rows: one per node of `report`, a Conv/Gemm/MatMul fused with its activation shown as one row
// "conv+relu" (as hb_compile prints it) with the activation's output threshold. `calibrated` / `quantized` give
// the cosine per tensor name (null or a missing name: "--"); `why` gets the quantizer's reason.
std::vector<NodeRow> node_rows(const ir::Graph& optimized, const quant::QuantReport& report, const Cosines* calibrated,
                               const Cosines* quantized);

}  // namespace kaiwu::compiler
