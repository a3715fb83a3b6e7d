// kaiwu batch-split MODEL -o OUTDIR [--inputs a,b] [--names x,y,...] [--batch B] [--prefix P]: splits the batch of an existing
// QDQ model (P_ptq_model.onnx, any QDQ ONNX model, multi-input too) into batch-1 inputs <name>_0 .. <name>_{B-1}
// joined by a Concat on axis 0, and recompiles it: the split QDQ model, the fixed-point model and a deployable .kwm
// (kaiwu::split_batch, include/kaiwu/batch_split.h).
#include <iostream>
#include <memory>

#include "commands.h"
#include "kaiwu/batch_split.h"

namespace kaiwu::cli {

namespace {

struct BatchArgs {
  std::string model, out_dir;
  BatchSplitOptions opt;
};

}  // namespace

void add_batch_split_command(CLI::App& app) {
  auto a = std::make_shared<BatchArgs>();
  CLI::App* c = app.add_subcommand(
      "batch-split", "Split the batch of a QDQ model (P_ptq_model.onnx) into batch-1 inputs and recompile it");
  c->add_option("model", a->model, "QDQ ONNX model (P_ptq_model.onnx of kaiwu compile)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("-o,--output-dir", a->out_dir, "Folder for <prefix>_ptq_model.onnx, <prefix>_quantized_model.onnx, <prefix>.kwm")
      ->required();
  c->add_option("--inputs", a->opt.inputs, "Inputs to split (default: every input with a static batch > 1)")
      ->delimiter(',');
  c->add_option("--names", a->opt.names, "Names of the split inputs (one input only; default <input>_0 ..)")
      ->delimiter(',');
  c->add_option("--batch", a->opt.batch,
                 "Set the batch of the inputs to split to B first (for a model with batch 1 or a symbolic batch)");
  c->add_option("--prefix", a->opt.prefix, "File name prefix (default: the model's prefix + \"_split\")");
  c->callback([a] {
    BatchSplitResult r;
    Status st = split_batch(a->model, a->out_dir, a->opt, &r);
    if (!st.ok()) {
      std::cerr << "kaiwu batch-split: " << st.to_string() << "\n";
      set_exit_code(1);
      return;
    }
    for (const auto& l : r.log) std::cout << l << "\n";
    for (const auto& f : r.artifacts) std::cout << "wrote " << f << "\n";
  });
}

}  // namespace kaiwu::cli
