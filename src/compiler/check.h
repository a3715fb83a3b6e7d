// `kaiwu compile -m model.onnx` (check mode: what would run in int8, int16 or float, and why; no yaml, random
// calibration data, nothing written) and `kaiwu config-gen -m model.onnx` (a filled compile yaml).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/report.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::compiler {

struct CheckOptions {
  std::string model;                          // the float ONNX model
  std::string march;                          // "" = the host's best target
  std::map<std::string, Shape> input_shapes;  // fixes dynamic input dims (by input name)
  size_t samples = 8;                         // random calibration samples (fixed seed)
  uint64_t seed = 0;
  bool echo = true;                           // print the report on stdout
};

struct CheckResult {
  std::vector<NodeRow> rows;  // one per node (conv+activation merged), with the reason
  std::string report;         // the text printed (header, table, counts)
  int nodes_int8 = 0, nodes_int16 = 0, nodes_float = 0;
};

// Runs the compile pipeline up to the QDQ insertion in memory (load, optimize, random calibration data with a
// fixed seed, max ranges, QDQ plan) and reports for each node int8 / int16 / float and why. Writes no file.
// Errors: unreadable model, unsupported ops, a dynamic input dim not given in input_shapes (named), bad march.
Status check_model(const CheckOptions& options, CheckResult* result);

struct ConfigGenOptions {
  std::string model;        // the float ONNX model
  std::string yaml_path;    // where the yaml will be written: onnx_model is written relative to its folder
  std::string march;        // "" = the host's best target
  bool full = false;        // every key with its default and a comment, instead of the short form
};

// A filled compile yaml for `model`: model path, march, working_dir model_output, output_model_file_prefix from
// the model's file name, one entry per input (input_name, input_shape, input_type_rt/train guessed: 4-D with 1 or
// 3 channels -> gray / rgb with NCHW or NHWC from the channel position, else featuremap), norm_type
// no_preprocess, calibration_type default with cal_data_dir commented out. Dynamic dims: the batch dim becomes
// 1, a spatial dim of an image-like input 224, any other 1, each reported in `warnings` (may be null).
Status generate_config(const ConfigGenOptions& options, std::string* yaml, std::vector<std::string>* warnings);

}  // namespace kaiwu::compiler
