// kaiwu::compile_model: the `kaiwu compile -c config.yaml` pipeline (Horizon J5/J6-style PTQ) as a library call.
#pragma once
#include <string>
#include <vector>

#include "kaiwu/status.h"

namespace kaiwu {

struct CompileOptions {
  bool progress = true;  // progress lines for long phases on a terminal (stderr)
  bool echo = true;      // log lines on stdout as well as in working_dir/kaiwu_compile.log
};

struct CompileResult {
  std::string working_dir;
  std::vector<std::string> artifacts;  // file names written into working_dir
  std::string calibration_method;      // the range method used (the one chosen, for `default`)
  double output_cosine = 0;            // mean cosine of the QDQ model's first output vs float, over the eval samples
  int nodes_int8 = 0, nodes_int16 = 0, nodes_float = 0;
  double seconds = 0;
};

// Reads the yaml, converts the model and writes the stage models and reports into working_dir. Nothing is left
// half-written: files are produced in a staging folder and moved into working_dir only when every phase succeeded.
Status compile_model(const std::string& yaml_path, const CompileOptions& options, CompileResult* result);

}  // namespace kaiwu
