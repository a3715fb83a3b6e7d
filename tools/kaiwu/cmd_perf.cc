// kaiwu perf MODEL [-t THREADS] [--march m] [--shape NAME=1x3x224x224] [-o DIR] [--compare PROFILE.json]: the static
// performance estimate (cost model) of any artifact — an ONNX model (float, QDQ or fixed-point: optimized for the CPU
// first, as the runtime would) or a deployable .kwm (as stored) — printed and written as DIR/<stem>.json and .html.
// kaiwu perf --calibrate [--calibration FILE]: measures this machine's cost factors (perf_calibrate.h) and stores them
// (default: perf::calibration_path()); later estimates of the host's target use them.
#include <algorithm>
#include <chrono>
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
#include "perf/calibration.h"
#include "perf/cost_model.h"
#include "perf_calibrate.h"

namespace kaiwu::cli {

namespace {

struct PerfArgs {
  std::string model, march, out_dir = ".", compare, calibration;
  bool calibrate = false;
  double calibrate_seconds = 0.4;
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

// Measures and stores this machine's cost factors.
Status run_calibrate(const PerfArgs& a) {
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string path = a.calibration.empty() ? perf::calibration_path() : a.calibration;
  std::cout << "calibrating the cost model on this machine (" << perf::cpu_model_slug() << ", target "
            << kernels::host_target() << ", 1 and " << threads << " threads)...\n";
  auto t0 = std::chrono::steady_clock::now();
  perf::TargetSpec t;
  std::string measurements;
  KW_RETURN_IF_ERROR(cli::calibrate_target(threads, a.calibrate_seconds, true, &t, &measurements));
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  KW_RETURN_IF_ERROR(write_file_atomic(path, perf::calibration_json(t, perf::cpu_model_slug(), threads, measurements))
                         .with_context("--calibrate"));
  std::cout << "measured (one thread; scaling = efficiency of each added thread; the estimate scales its built-in "
               "in-model rates by measured / reference-machine values):\n";
  std::cout << "  node overhead " << t.node_overhead_us << " us (tiny node, profiling off)\n";
  for (const auto& [fam, v] : t.call_us)
    std::printf("  %-16s %8.2f us per call (tiny image), %.2f us more with evicted caches\n", fam.c_str(), v,
                t.cold_call_us.count(fam) ? t.cold_call_us.at(fam) : 0.0);
  for (const auto& [fam, v] : t.gmacs)
    std::printf("  %-16s %8.1f GMAC/s  %6.3f ns/output  scaling %.2f\n", fam.c_str(), v,
                t.out_ns.count(fam) ? t.out_ns.at(fam) : 0.0, t.scaling.count(fam) ? t.scaling.at(fam) : 0.0);
  for (const auto& [fam, v] : t.gbytes)
    if (!t.gmacs.count(fam))
      std::printf("  %-16s %7.1f GB/s  scaling %.2f\n", fam.c_str(), v, t.scaling.count(fam) ? t.scaling.at(fam) : 0.0);
  std::printf("calibration took %.1f s; written to %s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), path.c_str());
  return Status::Ok();
}

Status run_perf(const PerfArgs& a) {
  if (a.calibrate) {
    KW_RETURN_IF_ERROR(run_calibrate(a));
    if (a.model.empty()) return Status::Ok();
  }
  if (a.model.empty()) return invalid_argument("a MODEL is required (or --calibrate); see kaiwu perf --help");
  if (!std::filesystem::is_regular_file(a.model)) return not_found("model '" + a.model + "' does not exist");
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
  perf::TargetSpec spec;
  std::string note;
  if (!a.calibration.empty()) {
    KW_RETURN_IF_ERROR(perf::read_calibration(a.calibration, &spec));
    if (!a.march.empty() && spec.name != a.march)
      return invalid_argument("--calibration '" + a.calibration + "' is for target " + spec.name + ", not " + a.march);
  } else {
    spec = perf::target_for(target, &note);
  }
  if (!note.empty()) std::cerr << "kaiwu perf: " << note << "\n";
  perf::Report r;
  KW_RETURN_IF_ERROR(perf::estimate(m, shapes, spec, threads, &r).with_context(a.model));
  const std::string stem = std::filesystem::path(a.model).stem().string();
  r.model = stem;
  std::cout << "model " << a.model << ", target " << r.target << ", " << threads << " thread(s), cost factors: "
            << r.target_source << "\n"
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
  c->add_option("model", a->model, "Model: .onnx (float, QDQ, fixed-point) or deployable .kwm");
  c->add_flag("--calibrate", a->calibrate,
              "Measure this machine's cost factors (< 30 s) and store them in the calibration file");
  c->add_option("--calibrate_seconds", a->calibrate_seconds, "Time per calibration case and thread count")
      ->capture_default_str();
  c->add_option("--calibration", a->calibration,
                "Calibration file to write (--calibrate) or read (default: $KAIWU_PERF_CALIBRATION or "
                "~/.cache/kaiwu/perf_<cpu>.json)");
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
