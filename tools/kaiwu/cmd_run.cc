// kaiwu run: run a model on .npy inputs, write .npy outputs, optionally time it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/npy.h"
#include "kaiwu/session.h"

namespace kaiwu::cli {
namespace {

int g_exit_code = 0;

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  std::vector<std::string> output_names;
  int threads = 0;
  int repeat = 0;
  int print_max = 10;
  int profile_top = 0;
};

void print_tensor(const std::string& name, const Tensor& t, int max_values) {
  std::cout << name << ": " << dtype_name(t.dtype()) << shape_to_string(t.shape()) << " = [";
  int64_t n = std::min<int64_t>(t.numel(), max_values);
  for (int64_t i = 0; i < n; ++i) std::cout << (i ? ", " : "") << t.get_f64(i);
  if (t.numel() > n) std::cout << ", ...";
  std::cout << "]\n";
}

void print_profile(std::vector<NodeProfile> prof, int top) {
  double total = 0;
  std::map<std::string, double> by_op;
  for (const auto& p : prof) {
    total += p.total_ms;
    by_op[p.op_type] += p.total_ms;
  }
  std::sort(prof.begin(), prof.end(), [](const NodeProfile& x, const NodeProfile& y) { return x.total_ms > y.total_ms; });
  std::printf("profile: %zu nodes, %.3f ms per run in kernels\n", prof.size(), prof.empty() || !prof[0].calls ? 0.0 : total / prof[0].calls);
  for (int i = 0; i < top && i < static_cast<int>(prof.size()); ++i) {
    const auto& p = prof[i];
    double per = p.calls ? p.total_ms / p.calls : 0;
    std::printf("  %8.3f ms %5.1f%%  %-24s %-8s %s %s\n", per, total > 0 ? 100 * p.total_ms / total : 0, p.op_type.c_str(),
                p.impl.c_str(), p.node.c_str(), shape_to_string(p.output_shape).c_str());
  }
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& kv : by_op) ops.push_back({kv.second, kv.first});
  std::sort(ops.rbegin(), ops.rend());
  std::printf("by op type:");
  for (const auto& [ms, op] : ops) std::printf(" %s %.1f%%", op.c_str(), total > 0 ? 100 * ms / total : 0);
  std::printf("\n");
}

int run(const RunArgs& a) {
  SessionOptions opt;
  opt.num_threads = a.threads;
  std::unique_ptr<Session> s;
  Status st = Session::open(a.model, opt, &s);
  if (!st.ok()) {
    std::cerr << "kaiwu run: " << st.to_string() << "\n";
    return 2;
  }
  NamedTensors feeds;
  for (const auto& spec : a.inputs) {
    size_t eq = spec.find('=');
    std::string name, path;
    if (eq == std::string::npos) {
      if (feeds.size() >= s->inputs().size()) {
        std::cerr << "kaiwu run: more inputs given than the model has (" << s->inputs().size() << ")\n";
        return 2;
      }
      name = s->inputs()[feeds.size()].name;
      path = spec;
    } else {
      name = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    }
    Tensor t;
    st = read_npy(path, &t);
    if (!st.ok()) {
      std::cerr << "kaiwu run: " << st.to_string() << "\n";
      return 2;
    }
    feeds.emplace_back(name, std::move(t));
  }
  std::vector<Tensor> outs;
  st = s->run(feeds, a.output_names, &outs);
  if (!st.ok()) {
    std::cerr << "kaiwu run: " << st.to_string() << "\n";
    return 1;
  }
  std::vector<std::string> names = a.output_names;
  if (names.empty())
    for (const auto& o : s->outputs()) names.push_back(o.name);
  for (size_t i = 0; i < outs.size(); ++i) {
    print_tensor(names[i], outs[i], a.print_max);
    if (!a.output_dir.empty()) {
      std::string safe = names[i];
      std::replace(safe.begin(), safe.end(), '/', '_');
      st = write_npy(a.output_dir + "/" + safe + ".npy", outs[i]);
      if (!st.ok()) {
        std::cerr << "kaiwu run: " << st.to_string() << "\n";
        return 1;
      }
    }
  }
  if (a.repeat > 0) {
    s->enable_profiling(a.profile_top > 0);
    std::vector<double> ms;
    for (int i = 0; i < a.repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      st = s->run(feeds, a.output_names, &outs);
      auto t1 = std::chrono::steady_clock::now();
      if (!st.ok()) {
        std::cerr << "kaiwu run: " << st.to_string() << "\n";
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    if (a.profile_top > 0) print_profile(s->profile(), a.profile_top);
    std::cout << "latency over " << a.repeat << " runs (" << s->num_threads() << " threads): median " << ms[ms.size() / 2]
              << " ms, min " << ms.front() << " ms, max " << ms.back() << " ms\n";
  }
  return 0;
}

}  // namespace

int exit_code() { return g_exit_code; }
void set_exit_code(int c) { g_exit_code = c; }

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* c = app.add_subcommand("run", "Run a model on .npy inputs and print/write its outputs");
  c->add_option("-m,--model", args->model, "Model file (.onnx)")->required()->check(CLI::ExistingFile);
  c->add_option("-i,--input", args->inputs, "Input as NAME=FILE.npy or FILE.npy (in input order)");
  c->add_option("-o,--output-dir", args->output_dir, "Write each output as <name>.npy here")->check(CLI::ExistingDirectory);
  c->add_option("--output-name", args->output_names, "Output(s) to compute (default: all graph outputs)");
  c->add_option("-t,--threads", args->threads, "Threads (0: all cores)");
  c->add_option("-r,--repeat", args->repeat, "Time this many extra runs and print the median latency");
  c->add_option("--print-max", args->print_max, "Values printed per output");
  c->add_option("--profile", args->profile_top, "With -r: print the N slowest nodes and the time per op type");
  c->callback([args] { set_exit_code(run(*args)); });
}

}  // namespace kaiwu::cli
