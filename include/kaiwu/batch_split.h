// kaiwu::split_batch: the `kaiwu batch-split` command as a library call. Splits the batch of an existing QDQ model
// (P_ptq_model.onnx of `kaiwu compile`, or any QDQ ONNX model, multi-input too) into batch-1 inputs and recompiles
// it: the split QDQ model, the fixed-point model and the deployable model (spec horizon_ptq_spec.md §1.2
// separate_batch / separate_name).
#pragma once
#include <string>
#include <vector>

#include "kaiwu/status.h"

namespace kaiwu {

struct BatchSplitOptions {
  // Inputs to split (empty: every input whose static batch dim is > 1).
  std::vector<std::string> inputs;
  // Names of the split inputs, only with a single input to split (empty: <input>_0 .. <input>_{B-1}).
  std::vector<std::string> names;
  // > 0: first set the batch (dim 0) of the inputs to split (all inputs when `inputs` is empty) to this value, for
  // models whose batch is symbolic or 1 (a P_ptq_model.onnx compiled with input_batch keeps input_shape).
  int64_t batch = 0;
  // Prefix of the files written (empty: the model file name without "_ptq_model.onnx" / ".onnx", plus "_split").
  std::string prefix;
};

struct BatchSplitResult {
  std::vector<std::string> artifacts;  // full paths: <prefix>_ptq_model.onnx, <prefix>_quantized_model.onnx, <prefix>.kwm
  std::vector<std::string> log;        // "Split input X with input_batch B on dim 0", ...
};

// Reads the QDQ model `model_path`, splits the chosen inputs and writes the three models into `out_dir` (created if
// missing). Errors name the model / input: unknown input, batch not static or < 2, name count mismatch, name clash.
Status split_batch(const std::string& model_path, const std::string& out_dir, const BatchSplitOptions& options,
                   BatchSplitResult* result);

}  // namespace kaiwu
