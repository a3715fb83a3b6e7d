// kaiwu: the command-line tool. Each subcommand lives in its own file and only calls library functions.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Kaiwu: post-training quantization and inference for ONNX vision models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", KAIWU_VERSION_STRING);
  kaiwu::cli::add_run_command(app);
  kaiwu::cli::add_compile_command(app);
  kaiwu::cli::add_config_gen_command(app);
  kaiwu::cli::add_exec_command(app);
  kaiwu::cli::add_perf_command(app);
  kaiwu::cli::add_eval_command(app);
  kaiwu::cli::add_debug_command(app);
  kaiwu::cli::add_info_command(app);
  kaiwu::cli::add_batch_split_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return kaiwu::cli::exit_code();
}
