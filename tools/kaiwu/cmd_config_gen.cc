// kaiwu config-gen -m model.onnx [-o config.yaml] [--full] [--march m]: a filled compile yaml for the model.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "compiler/check.h"

namespace kaiwu::cli {

void add_config_gen_command(CLI::App& app) {
  auto opt = std::make_shared<compiler::ConfigGenOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("config-gen", "Write a compile yaml filled from an ONNX model");
  c->add_option("-m,--model", opt->model, "The float ONNX model")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", *out, "The yaml to write (default: print it on stdout)");
  c->add_option("--march", opt->march, "Target written into the yaml (default: this host's best)");
  c->add_flag("--full", opt->full, "Every key, with its default and a comment");
  c->callback([opt, out] {
    opt->yaml_path = out->empty() ? "config.yaml" : *out;
    std::string yaml;
    std::vector<std::string> warnings;
    Status st = compiler::generate_config(*opt, &yaml, &warnings);
    if (!st.ok()) {
      std::cerr << "kaiwu config-gen: " << st.to_string() << "\n";
      set_exit_code(2);
      return;
    }
    for (const auto& w : warnings) std::cerr << "WARNING: " << w << "\n";
    if (out->empty()) {
      std::cout << yaml;
      return;
    }
    std::ofstream f(*out);
    f << yaml;
    f.close();
    if (!f.good()) {
      std::cerr << "kaiwu config-gen: cannot write '" << *out << "'\n";
      set_exit_code(2);
      return;
    }
    std::cout << "wrote " << *out << "; check the input types, point cal_data_dir at your calibration data, then: "
              << "kaiwu compile -c " << *out << "\n";
  });
}

}  // namespace kaiwu::cli
