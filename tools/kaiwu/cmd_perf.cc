// kaiwu perf MODEL [-t THREADS] [--march m] [--shape NAME=1x3x224x224] [-o DIR]: the static performance estimate
// (cost model) of any artifact — an ONNX model (float, QDQ or fixed-point: optimized for the CPU first, as the
// runtime would) or a deployable .kwm (as stored) — printed and written as DIR/<stem>.json and DIR/<stem>.html.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/file_util.h"
#include "deploy/deployable.h"
#include "frontend/onnx/onnx_import.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "perf/cost_model.h"

namespace kaiwu::cli {

namespace {

struct PerfArgs {
  std::string model, march, out_dir = ".", compare;
  std::vector<std::string> shapes;
  int threads = 0;
};

// The estimate beside a measured profile (`kaiwu exec perf --profile_path`): per layer (matched by node name) and in
// total, with the relative error; the median error over the layers above 2% of the measured time.
Status compare_with_profile(const perf::Report& r, const std::string& path) {
  std::ifstream f(path);
  if (!f) return not_found("--compare: cannot open '" + path + "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    return invalid_argument("--compare: '" + path + "' is not JSON: " + e.what());
  }
  if (!j.contains("layers") || !j["layers"].is_array())
    return invalid_argument("--compare: '" + path + "' has no \"layers\" list (write it with kaiwu exec perf --profile_path)");
  std::map<std::string, double> measured;
  double measured_total = 0;
  for (const auto& l : j["layers"]) {
    const double ms = l.value("mean_ms", 0.0);
    measured[l.value("node", std::string())] += ms;
    measured_total += ms;
  }
  const double frame = j.contains("perf_result") ? j["perf_result"].value("average_latency_ms", measured_total)
                                                 : measured_total;
  std::printf("%-48s %-22s %10s %10s %8s\n", "layer", "op", "est ms", "meas ms", "error");
  std::vector<double> errors;
  for (const auto& l : r.layers) {
    auto it = measured.find(l.name);
    if (it == measured.end()) continue;
    const double err = it->second > 0 ? (l.est_ms - it->second) / it->second : 0;
    if (it->second > 0.02 * measured_total) {
      errors.push_back(std::fabs(err));
      std::printf("%-48s %-22s %10.4f %10.4f %+7.1f%%\n", l.name.substr(0, 48).c_str(), l.op_type.c_str(), l.est_ms,
                  it->second, 100 * err);
    }
  }
  std::sort(errors.begin(), errors.end());
  const double median = errors.empty() ? 0 : errors[errors.size() / 2];
  std::printf("total: estimated %.3f ms, measured %.3f ms per frame (layers %.3f ms), error %+.1f%%\n", r.latency_ms,
              frame, measured_total, frame > 0 ? 100 * (r.latency_ms - frame) / frame : 0.0);
  std::printf("median |error| over the %zu layers above 2%% of the measured time: %.1f%%\n", errors.size(),
              100 * median);
  return Status::Ok();
}

Status run_perf(const PerfArgs& a) {
  ir::Model m;
  std::string target = a.march.empty() ? kernels::host_target() : a.march;
  if (deploy::is_deployable_file(a.model)) {
    deploy::DeployInfo info;
    KW_RETURN_IF_ERROR(deploy::read_deployable(a.model, &m, &info));
    if (a.march.empty() && !info.target.empty()) target = info.target;
  } else {
    KW_RETURN_IF_ERROR(frontend::load_onnx(a.model, &m));
    KW_RETURN_IF_ERROR(passes::optimize_for_cpu(m).with_context(a.model));
  }
  std::map<std::string, Shape> shapes;
  for (const auto& s : a.shapes) {
    std::string name;
    Shape shape;
    if (!parse_input_shape(s, &name, &shape))
      return invalid_argument("--shape '" + s + "': expected NAME=1x3x224x224");
    shapes[name] = shape;
  }
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  perf::Report r;
  KW_RETURN_IF_ERROR(perf::estimate(m, shapes, perf::builtin_target(target), threads, &r).with_context(a.model));
  const std::string stem = std::filesystem::path(a.model).stem().string();
  r.model = stem;
  std::cout << "model " << a.model << ", target " << r.target << ", " << threads << " thread(s)\n"
            << "  estimated latency " << r.latency_ms << " ms per frame (" << r.latency_1t_ms << " ms on 1 thread), "
            << r.fps << " FPS, " << r.fps_parallel << " FPS with " << threads << " frames in parallel\n"
            << "  " << r.total_macs / 1e9 << " GMACs, " << r.read_bytes / 1e6 << " MB read and " << r.write_bytes / 1e6
            << " MB written per frame, peak activations " << r.peak_activation_bytes / 1e6 << " MB, model "
            << r.model_bytes / 1e6 << " MB\n";
  std::vector<size_t> idx(r.layers.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return r.layers[x].est_ms > r.layers[y].est_ms; });
  std::cout << "  slowest layers:\n";
  for (size_t k = 0; k < std::min<size_t>(10, idx.size()); ++k) {
    const auto& l = r.layers[idx[k]];
    std::cout << "    " << l.est_ms << " ms  " << l.op_type << "  " << l.kernel << "  " << l.name << " " << l.shape
              << "\n";
  }
  if (!a.compare.empty()) KW_RETURN_IF_ERROR(compare_with_profile(r, a.compare));
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  KW_RETURN_IF_ERROR(write_file_atomic(a.out_dir + "/" + stem + ".json", perf::to_json(r)));
  KW_RETURN_IF_ERROR(write_file_atomic(a.out_dir + "/" + stem + ".html", perf::to_html(r)));
  std::cout << "wrote " << a.out_dir << "/" << stem << ".json and .html\n";
  return Status::Ok();
}

}  // namespace

void add_perf_command(CLI::App& app) {
  auto a = std::make_shared<PerfArgs>();
  CLI::App* c = app.add_subcommand("perf", "Static performance estimate of a model (cost model): P.json and P.html");
  c->add_option("model", a->model, "Model: .onnx (float, QDQ, fixed-point) or deployable .kwm")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("-t,--threads", a->threads, "Threads (default: all cores)");
  c->add_option("--march", a->march, "Target: x86-avx512vnni, x86-avx2, generic (default: the model's or host's)");
  c->add_option("--shape", a->shapes, "Input shape NAME=1x3x224x224 for symbolic dims");
  c->add_option("-o,--output-dir", a->out_dir, "Where to write <model>.json and <model>.html (default: .)");
  c->add_option("--compare", a->compare, "A measured profile (kaiwu exec perf --profile_path) to compare with");
  c->callback([a] {
    Status st = run_perf(*a);
    if (!st.ok()) {
      std::cerr << "kaiwu perf: " << st.to_string() << "\n";
      set_exit_code(1);
    }
  });
}

}  // namespace kaiwu::cli
