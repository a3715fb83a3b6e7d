// Registration of the CLI subcommands; each adds itself to the app and records its exit code.
#pragma once
#include <CLI/CLI.hpp>

#include "kaiwu/tensor.h"
#include "kaiwu/version.h"

namespace kaiwu::cli {

void add_run_command(CLI::App& app);
void add_compile_command(CLI::App& app);
void add_config_gen_command(CLI::App& app);  // cmd_config_gen.cc
void add_exec_command(CLI::App& app);        // cmd_exec.cc: model_info / infer / perf (hrt_model_exec)
void add_perf_command(CLI::App& app);        // cmd_perf.cc: static performance estimate
void add_info_command(CLI::App& app);        // cmd_info.cc: describe an artifact (hb_model_info)
void add_batch_split_command(CLI::App& app);  // cmd_batch.cc: split the batch of a QDQ model and recompile
void add_eval_command(CLI::App& app);        // cmd_eval.cc: accuracy on labelled data, model comparison
void add_debug_command(CLI::App& app);       // cmd_debug.cc: precision debugger, automatic mixed precision

// "NAME=1x3x224x224" (or NAME:1x3x224x224, dims split by x or ,) -> name, shape; false when malformed.
bool parse_input_shape(const std::string& spec, std::string* name, Shape* shape);

// The exit code the chosen subcommand set (0 by default).
int exit_code();
void set_exit_code(int code);

}  // namespace kaiwu::cli
