// kaiwu debug: the precision debugger (spec §5) and automatic mixed precision.
//
//   kaiwu debug sensitivity  (-w WORKDIR | -m QDQ.onnx [-f FLOAT.onnx]) -d DATA [-n node|weight|activation]
//                            [--metrics cosine-similarity,mse,...] [--mode single|all_but_one] [-s SAVE_DIR]
//   kaiwu debug accumulate   ... [--metric M] [--average] [--quantize-node a,b] [--non-quantize-node a,b] [-s DIR]
//   kaiwu debug distribution ... --nodes a,b [-s DIR]
//   kaiwu debug runall       ... [-s DIR]
//   kaiwu debug auto-mp      -c config.yaml [-w WORKDIR] [--metric cosine|top1|iou] [--target 0.999] [-o OUT_DIR]
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include <unistd.h>

#include "commands.h"
#include "core/file_util.h"
#include "debug/amp.h"
#include "debug/debugger.h"

namespace kaiwu::cli {

namespace {

namespace fs = std::filesystem;

struct DebugArgs {
  debug::SessionSpec spec;
  std::string save_dir, node_type = "node", mode = "single", metric = "cosine-similarity";
  std::vector<std::string> metrics = {"cosine-similarity"}, interested, nodes, quantize_node, non_quantize_node;
  bool verbose = true, average = false;
  int top = 5, bins = 64;
  debug::AmpOptions amp;
};

void add_session_options(CLI::App* c, DebugArgs* a) {
  c->add_option("-w,--working-dir", a->spec.working_dir, "Compile working_dir (P_ptq_model.onnx + optimized float)");
  c->add_option("-m,--model", a->spec.model, "QDQ model (P_ptq_model.onnx or P_calibrated_model.onnx)");
  c->add_option("-f,--float-model", a->spec.float_model, "Optimized float model (original float weights)");
  c->add_flag("--calibrated", a->spec.calibrated, "With -w: debug P_calibrated_model.onnx (activations only)");
  c->add_option("-d,--data", a->spec.data_dir,
                "Calibration data: <dir>/<input_name>/*.npy|bin, or the files directly for one input "
                "(default: random data)");
  c->add_option("--cal-data-type", a->spec.cal_data_type, "Element type of raw .bin files (float32, uint8, ...)");
  c->add_option("--data-num", a->spec.data_num, "Use the first N samples (0: all)");
  c->add_option("--output", a->spec.outputs, "Compare these tensors instead of the model outputs")->delimiter(',');
  c->add_option("-t,--threads", a->spec.threads, "Threads per model run");
}

Status parse_metrics(const std::vector<std::string>& names, std::vector<debug::Metric>* out) {
  out->clear();
  for (const auto& n : names) {
    debug::Metric m;
    KW_RETURN_IF_ERROR(debug::parse_metric(n, &m));
    out->push_back(m);
  }
  return Status::Ok();
}

Status save(const std::string& dir, const std::string& file, const std::string& text) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("cannot create '" + dir + "': " + ec.message());
  KW_RETURN_IF_ERROR(write_file_atomic(dir + "/" + file, text));
  std::fprintf(stderr, "wrote %s/%s\n", dir.c_str(), file.c_str());
  return Status::Ok();
}

void progress(size_t done, size_t total) {
  if (!::isatty(2)) return;
  std::fprintf(stderr, "\r%zu / %zu", done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

Status open(const DebugArgs& a, std::unique_ptr<debug::DebugSession>* s) {
  KW_RETURN_IF_ERROR(debug::open_debug_session(a.spec, s));
  for (const auto& w : (*s)->analysis.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (a.spec.data_dir.empty())
    std::fprintf(stderr, "warning: no calibration data (-d): using random inputs; results are only indicative\n");
  return Status::Ok();
}

Status run_sensitivity(const DebugArgs& a) {
  debug::SensitivityOptions so;
  KW_RETURN_IF_ERROR(parse_metrics(a.metrics, &so.metrics));
  if (a.mode != "single" && a.mode != "all_but_one")
    return invalid_argument("--mode '" + a.mode + "' (single, all_but_one)");
  so.all_but_one = a.mode == "all_but_one";
  so.node_type = a.node_type;
  so.interested = a.interested;
  std::unique_ptr<debug::DebugSession> s;
  KW_RETURN_IF_ERROR(open(a, &s));
  std::vector<debug::SensitivityRow> rows;
  KW_RETURN_IF_ERROR(debug::node_sensitivity(s->analysis, *s->ev, so, &rows, progress));
  const std::string table = debug::sensitivity_table(rows, so.metrics, a.node_type);
  if (a.verbose) std::cout << table;
  return save(a.save_dir, "sensitivity_of_" + a.node_type + ".log", table);
}

Status run_accumulate(const DebugArgs& a) {
  debug::Metric m;
  KW_RETURN_IF_ERROR(debug::parse_metric(a.metric, &m));
  std::unique_ptr<debug::DebugSession> s;
  KW_RETURN_IF_ERROR(open(a, &s));
  const debug::QdqAnalysis& an = s->analysis;
  std::vector<debug::QuantSetSpec> sets;
  auto node_mask = [&](const std::vector<std::string>& names, bool value, std::vector<bool>* mask) -> Status {
    for (const auto& n : names) {
      auto e = an.edges_of("node", n);
      if (e.empty()) return not_found("no quantized node named '" + n + "'");
      for (size_t i : e) (*mask)[i] = value;
    }
    return Status::Ok();
  };
  if (!a.quantize_node.empty()) {  // one curve per node: only that node quantized
    for (const auto& n : a.quantize_node) {
      std::vector<bool> mask = debug::mask_none(an);
      KW_RETURN_IF_ERROR(node_mask({n}, true, &mask));
      sets.push_back({"only " + n, mask});
    }
  }
  if (!a.non_quantize_node.empty()) {  // everything but these nodes
    std::vector<bool> mask = debug::mask_all(an);
    KW_RETURN_IF_ERROR(node_mask(a.non_quantize_node, false, &mask));
    sets.push_back({"all but " + std::to_string(a.non_quantize_node.size()) + " node(s)", mask});
  }
  if (sets.empty()) sets = debug::standard_sets(an);
  debug::AccumulatedError r;
  KW_RETURN_IF_ERROR(debug::accumulate_error(an, *s->ev, sets, m, a.average, &r));
  const std::string table = debug::accumulated_table(r);
  if (a.verbose) std::cout << table;
  KW_RETURN_IF_ERROR(save(a.save_dir, "accumulate_error.txt", table));
  return save(a.save_dir, "accumulate_error.svg", debug::accumulated_svg(r));
}

Status run_distribution(const DebugArgs& a) {
  if (a.nodes.empty()) return invalid_argument("--nodes: give the node names");
  std::unique_ptr<debug::DebugSession> s;
  KW_RETURN_IF_ERROR(open(a, &s));
  std::vector<debug::NodeDistribution> d;
  KW_RETURN_IF_ERROR(debug::distributions(s->analysis, *s->ev, a.nodes, a.bins, &d));
  std::string html = "<!DOCTYPE html><html><body>\n";
  for (const auto& x : d) {
    std::cout << debug::distribution_text(x) << "\n";
    html += "<h3>" + x.node + "</h3>\n" + debug::distribution_svg(x) + debug::channel_range_svg(x);
  }
  return save(a.save_dir, "distribution.html", html + "</body></html>\n");
}

Status run_runall(const DebugArgs& a) {
  debug::RunallOptions ro;
  KW_RETURN_IF_ERROR(parse_metrics(a.metrics, &ro.metrics));
  ro.top = a.top;
  ro.bins = a.bins;
  ro.all_but_one = a.mode == "all_but_one";
  std::unique_ptr<debug::DebugSession> s;
  KW_RETURN_IF_ERROR(open(a, &s));
  std::string html;
  const std::string dir = a.save_dir.empty() ? "./debug_result" : a.save_dir;
  KW_RETURN_IF_ERROR(debug::runall(s->analysis, *s->ev, dir, ro, &html,
                                   [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); }));
  std::printf("report: %s\n", html.c_str());
  return Status::Ok();
}

Status run_amp(DebugArgs a) {
  a.amp.working_dir = a.spec.working_dir;
  a.amp.data_dir = a.spec.data_dir;
  if (a.spec.data_num) a.amp.data_num = a.spec.data_num;
  a.amp.threads = a.spec.threads;
  debug::AmpResult r;
  KW_RETURN_IF_ERROR(debug::auto_mixed_precision(a.amp, &r, [](const std::string& m) {
    std::fprintf(stderr, "%s\n", m.c_str());
  }));
  std::cout << r.report;
  if (!r.reached) set_exit_code(2);
  return Status::Ok();
}

void add(CLI::App* parent, const std::string& name, const std::string& help, std::shared_ptr<DebugArgs> a,
         Status (*fn)(const DebugArgs&), bool session = true) {
  CLI::App* c = parent->add_subcommand(name, help);
  if (session) add_session_options(c, a.get());
  c->add_option("-s,--save-dir", a->save_dir, "Write the results into this folder");
  if (name == "sensitivity" || name == "runall") {
    c->add_option("--metrics", a->metrics, "cosine-similarity, mse, mre, sqnr, chebyshev, mae, top1, iou (maps binarized at 0.5); the first ranks")
        ->delimiter(',');
    c->add_option("--mode", a->mode, "single (quantize one item) or all_but_one");
  }
  if (name == "sensitivity") {
    c->add_option("-n,--node-type", a->node_type, "node, weight or activation");
    c->add_option("-i,--interested-nodes", a->interested, "Only these items")->delimiter(',');
  }
  if (name == "accumulate") {
    c->add_option("--metric", a->metric, "cosine-similarity, mse, mre, sqnr, chebyshev, mae, top1, iou (maps binarized at 0.5)");
    c->add_flag("--average", a->average, "Running mean along the layers");
    c->add_option("--quantize-node", a->quantize_node, "One curve per node: only that node quantized")->delimiter(',');
    c->add_option("--non-quantize-node", a->non_quantize_node, "One curve: everything but these nodes quantized")
        ->delimiter(',');
  }
  if (name == "distribution") c->add_option("--nodes", a->nodes, "Nodes to plot")->delimiter(',');
  if (name == "distribution" || name == "runall") c->add_option("--bins", a->bins, "Histogram bins");
  if (name == "runall") c->add_option("--top", a->top, "Distributions of the N most sensitive nodes");
  c->add_flag("!-q,!--quiet", a->verbose, "Do not print the table");
  c->callback([a, fn, name] {
    Status st = fn(*a);
    if (!st.ok()) {
      std::cerr << "kaiwu debug " << name << ": " << st.to_string() << "\n";
      set_exit_code(1);
    }
  });
}

}  // namespace

void add_debug_command(CLI::App& app) {
  CLI::App* d = app.add_subcommand("debug", "Precision debugger: node sensitivity, accumulated error, distributions, "
                                            "HTML report, automatic mixed precision");
  d->require_subcommand(1);
  add(d, "sensitivity", "Sensitivity of nodes / weights / activations, worst first", std::make_shared<DebugArgs>(),
      run_sensitivity);
  add(d, "accumulate", "Error of every layer along the graph, float vs partially quantized",
      std::make_shared<DebugArgs>(), run_accumulate);
  add(d, "distribution", "Histograms and per-channel ranges of nodes' outputs and weights",
      std::make_shared<DebugArgs>(), run_distribution);
  add(d, "runall", "Everything into one self-contained HTML report", std::make_shared<DebugArgs>(), run_runall);
  auto a = std::make_shared<DebugArgs>();
  CLI::App* c = d->add_subcommand("auto-mp", "Automatic mixed precision: raise sensitive activations to int16 and "
                                             "nodes to float until the output cosine (or top-1 agreement, or binarized-map IoU) reaches the target");
  c->add_option("-c,--config", a->amp.config, "The compile yaml")->required();
  c->add_option("-w,--working-dir", a->spec.working_dir, "Compile working_dir (default: the yaml's)");
  c->add_option("-d,--data", a->spec.data_dir, "Evaluation data (default: the yaml's cal_data_dir)");
  c->add_option("--data-num", a->spec.data_num, "Evaluation samples (default 20; held-out ones when possible)");
  c->add_option("--metric", a->amp.metric, "Target metric vs float: cosine (default), top1 (argmax agreement along "
                                           "the last axis) or iou (of the output maps binarized at --binarize)");
  c->add_option("--target", a->amp.target, "Target value of --metric (default 0.999)");
  c->add_option("--target-cosine", a->amp.target, "Same as --metric cosine --target VALUE")
      ->each([a](const std::string&) { a->amp.metric = "cosine"; });
  c->add_option("--binarize", a->amp.binarize, "Threshold of the iou metric (default 0.5; PP-OCR det: 0.3)");
  c->add_option("--max-raises", a->amp.max_raises, "Candidates of each phase at most (the most sensitive; default 0: every one with a loss)");
  c->add_option("--rank-samples", a->amp.rank_samples, "Samples of the ranking (default 8)");
  c->add_flag("!--no-int16", a->amp.allow_int16, "Raise to float only");
  c->add_flag("!--no-float", a->amp.allow_float, "Raise to int16 only");
  c->add_flag("!--no-prune", a->amp.prune, "Keep every accepted raise");
  c->add_flag("!--no-validate", a->amp.validate,
              "Do not check the pruned set on other samples (by default, as many other samples as --data-num when "
              "the data has them; pruning steps are undone until the target holds there too)");
  c->add_option("-o,--out-dir", a->amp.out_dir, "Output folder (default: <working_dir>/amp)");
  c->add_option("-t,--threads", a->spec.threads, "Threads per model run");
  c->callback([a] {
    Status st = run_amp(*a);
    if (!st.ok()) {
      std::cerr << "kaiwu debug auto-mp: " << st.to_string() << "\n";
      set_exit_code(1);
    }
  });
}

}  // namespace kaiwu::cli
