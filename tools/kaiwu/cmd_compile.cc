// kaiwu compile -c config.yaml: the PTQ conversion (see include/kaiwu/compile.h).
// kaiwu compile -m model.onnx [--march m]: check mode (what would run in int8 / int16 / float, and why; no yaml,
// random calibration data, writes nothing but the optional -o report).
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "compiler/check.h"
#include "kaiwu/compile.h"

namespace kaiwu::cli {
namespace {

struct CompileArgs {
  std::string yaml, model, march, report;
  std::vector<std::string> input_shapes;  // NAME=1x3x224x224
  bool quiet = false;
};

int run_check(const CompileArgs& a) {
  compiler::CheckOptions opt;
  opt.model = a.model;
  opt.march = a.march;
  opt.echo = !a.quiet;
  for (const auto& s : a.input_shapes) {
    std::string name;
    Shape shape;
    if (!parse_input_shape(s, &name, &shape)) {
      std::cerr << "kaiwu compile: --input-shape '" << s << "': expected NAME=1x3x224x224\n";
      return 2;
    }
    opt.input_shapes[name] = shape;
  }
  compiler::CheckResult r;
  Status st = compiler::check_model(opt, &r);
  if (!st.ok()) {
    std::cerr << "kaiwu compile: " << st.to_string() << "\n";
    return 2;
  }
  if (!a.report.empty()) {
    std::ofstream f(a.report);
    f << r.report;
    if (!f.good()) {
      std::cerr << "kaiwu compile: cannot write the report '" << a.report << "'\n";
      return 2;
    }
  }
  return 0;
}

int run_compile(const CompileArgs& a) {
  CompileOptions opt;
  opt.echo = !a.quiet;
  CompileResult r;
  Status st = compile_model(a.yaml, opt, &r);
  if (!st.ok()) {
    std::cerr << "kaiwu compile: " << st.to_string() << "\n";
    return 2;
  }
  std::cout << "wrote " << r.artifacts.size() << " files into " << r.working_dir << " (" << r.nodes_int8 << " int8, "
            << r.nodes_int16 << " int16, " << r.nodes_float << " float nodes; output cosine " << r.output_cosine
            << ")\n";
  return 0;
}

}  // namespace

void add_compile_command(CLI::App& app) {
  auto a = std::make_shared<CompileArgs>();
  CLI::App* c = app.add_subcommand(
      "compile", "Convert a float ONNX model to int8 with a J5/J6-style yaml (-c), or check a model (-m)");
  c->add_option("-c,--config", a->yaml, "The yaml config (model_parameters, input_parameters, ...)")
      ->check(CLI::ExistingFile);
  c->add_option("-m,--model", a->model,
                "Check mode: the float ONNX model; prints what would run in int8, int16 or float and why "
                "(random calibration data, no yaml, nothing written)")
      ->check(CLI::ExistingFile);
  c->add_option("--march", a->march, "Check mode: target (default: this host's best; Horizon names map to it)");
  c->add_option("-i,--input-shape", a->input_shapes, "Check mode: NAME=1x3x224x224 for an input with dynamic dims");
  c->add_option("-o,--output", a->report, "Check mode: also write the report to this file");
  c->add_flag("-q,--quiet", a->quiet, "Only warnings and errors on the console (the log file is complete)");
  c->callback([a] {
    if (a->yaml.empty() == a->model.empty()) {
      std::cerr << "kaiwu compile: " << (a->yaml.empty() ? "give" : "give only one of")
                << " -c config.yaml (convert) or -m model.onnx (check mode)"
                << (a->yaml.empty() ? "" : ", not both") << "\n";
      set_exit_code(2);
      return;
    }
    if (!a->yaml.empty() && (!a->march.empty() || !a->input_shapes.empty() || !a->report.empty())) {
      std::cerr << "kaiwu compile: --march, --input-shape and -o belong to the check mode (-m); with -c the yaml "
                   "sets them\n";
      set_exit_code(2);
      return;
    }
    set_exit_code(a->yaml.empty() ? run_check(*a) : run_compile(*a));
  });
}

// "NAME=1x3x224x224" (or NAME:1x3x224x224) -> name, shape.
bool parse_input_shape(const std::string& spec, std::string* name, Shape* shape) {
  size_t eq = spec.find_last_of("=:");
  if (eq == std::string::npos || eq == 0 || eq + 1 >= spec.size()) return false;
  *name = spec.substr(0, eq);
  shape->clear();
  std::string dims = spec.substr(eq + 1);
  size_t pos = 0;
  while (pos <= dims.size()) {
    size_t x = dims.find_first_of("x,", pos);
    std::string d = dims.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos) return false;
    shape->push_back(std::stoll(d));
    if (shape->back() <= 0) return false;
    if (x == std::string::npos) break;
    pos = x + 1;
  }
  return !shape->empty();
}

}  // namespace kaiwu::cli
