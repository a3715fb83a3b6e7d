// kaiwu compile -c config.yaml: the PTQ conversion (see include/kaiwu/compile.h).
#include <iostream>
#include <memory>

#include "commands.h"
#include "kaiwu/compile.h"

namespace kaiwu::cli {

void add_compile_command(CLI::App& app) {
  auto yaml = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* c = app.add_subcommand("compile", "Convert a float ONNX model to int8 with a J5/J6-style yaml");
  c->add_option("-c,--config", *yaml, "The yaml config (model_parameters, input_parameters, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_flag("-q,--quiet", *quiet, "Only warnings and errors on the console (the log file is complete)");
  c->callback([yaml, quiet] {
    CompileOptions opt;
    opt.echo = !*quiet;
    CompileResult r;
    Status st = compile_model(*yaml, opt, &r);
    if (!st.ok()) {
      std::cerr << "kaiwu compile: " << st.to_string() << "\n";
      set_exit_code(2);
      return;
    }
    std::cout << "wrote " << r.artifacts.size() << " files into " << r.working_dir << " (" << r.nodes_int8
              << " int8, " << r.nodes_int16 << " int16, " << r.nodes_float << " float nodes; output cosine "
              << r.output_cosine << ")\n";
  });
}

}  // namespace kaiwu::cli
