// Batch handling of the fixed-point and deployable models (input_parameters.input_batch / separate_batch /
// separate_name, spec horizon_ptq_spec.md §1.2): the batch of the inputs is set to input_batch, and split inputs
// become B batch-1 inputs `<name>_0 .. <name>_{B-1}` joined by a Concat on axis 0, each quantized (and later
// preprocessed) on its own. The ONNX stage models (original .. ptq) keep input_shape: calibration and evaluation
// run on batch-1 samples exactly as configured.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "config/compile_config.h"
#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::compiler {

// Sets dim 0 of graph input `input` to `batch` (graph outputs whose dim 0 is 1 or symbolic follow; intermediate
// shape annotations are dropped). Errors name the input.
Status set_input_batch(ir::Model* m, const std::string& input, int64_t batch);

// Splits graph input `input` (static batch B >= 2 on dim 0) into B inputs `names` (default `<input>_<i>`), each with
// dim 0 = 1, in its place, joined by a Concat(axis 0) that produces the old input tensor. Appends
// "Split input X with input_batch B on dim 0" to `log` (may be null).
Status split_input_batch(ir::Model* m, const std::string& input, const std::vector<std::string>& names,
                         std::vector<std::string>* log);

// For every Concat(axis 0) of graph inputs whose output is read only by a per-tensor QuantizeLinear with constant
// qparams: each part is quantized before the Concat (same qparams) and the Concat joins the integer tensors, so
// that the preprocessing of each part can fold its quantization. Returns the number of Concats rewritten.
int quantize_before_split_concat(ir::Model* m);

// The compile hook, after the fixed-point model is lowered from `ptq` at the configured shapes: when input_batch > 1
// or inputs are split, lowers `ptq` again with the batch applied (and the split inputs) into `fixed`, and makes
// `pre_cfg` (a copy of `cfg` for insert_preprocessing) describe the new inputs: batched shapes, and the split
// inputs in place of the original entry. Nothing changes otherwise. One log line per change.
Status apply_input_batch(const config::CompileConfig& cfg, const ir::Model& ptq, ir::Model* fixed,
                         config::CompileConfig* pre_cfg, std::vector<std::string>* log);

// Per runtime input of the deployable model `g`, its source and layout as metadata entries
// ("kaiwu.input.<name>" -> "source=pyramid;layout=NHWC;type=nv12_y") from the config `cfg` (the split/preprocess
// configuration): `kaiwu info` shows them. Inputs not in the config get nothing.
void describe_runtime_inputs(const config::CompileConfig& cfg, const ir::Graph& g,
                             std::map<std::string, std::string>* metadata);

}  // namespace kaiwu::compiler
