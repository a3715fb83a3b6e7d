#include "exec_perf.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "exec_inputs.h"
#include "kaiwu/session.h"
#include "perf/latency_stats.h"

namespace kaiwu::cli::exec {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Per-layer statistics over profiled frames.
struct LayerStats {
  std::string node, op_type, impl;
  Shape output_shape;
  int64_t frames = 0;
  double sum = 0, min = 1e300, max = 0;
  std::vector<double> ms;  // per frame, for the median (robust to the preemptions of a shared machine)
};

struct Worker {
  std::unique_ptr<Session> session;
  NamedTensors feeds;
  std::vector<double> latencies;
  std::vector<LayerStats> layers;  // execution order
  Status status;
};

// Adds one frame's profile snapshot (then cleared) to `layers`.
void accumulate_profile(Session& s, std::vector<LayerStats>* layers) {
  std::vector<NodeProfile> prof = s.profile();
  s.reset_profile();
  if (layers->empty()) {
    for (const auto& p : prof) {
      LayerStats l;
      l.node = p.node;
      l.op_type = p.op_type;
      l.impl = p.impl;
      l.output_shape = p.output_shape;
      layers->push_back(l);
    }
  }
  if (layers->size() != prof.size()) return;  // another plan (should not happen with fixed inputs)
  for (size_t i = 0; i < prof.size(); ++i) {
    if (prof[i].calls == 0) continue;
    LayerStats& l = (*layers)[i];
    double t = prof[i].total_ms;
    l.frames += 1;
    l.sum += t;
    l.min = std::min(l.min, t);
    l.max = std::max(l.max, t);
    l.ms.push_back(t);
    if (l.output_shape.empty()) l.output_shape = prof[i].output_shape;
  }
}

struct Summary {
  int threads = 1, intra = 1, frames = 0, warmup = 0;
  double run_ms = 0, total_latency = 0, avg = 0, min = 0, max = 0, p50 = 0, p90 = 0, p99 = 0, fps = 0;
};

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

Status write_profile(const PerfOptions& o, const std::string& kind, const Summary& s,
                     const std::vector<LayerStats>& layers, std::string* written) {
  namespace fs = std::filesystem;
  std::string path = o.profile_path;
  std::error_code ec;
  if (file_extension(path) == ".json") {
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
  } else {
    fs::create_directories(path, ec);
    path += "/profiler.json";
  }
  double kernel_ms = 0;
  for (const auto& l : layers) kernel_ms += l.frames ? l.sum / l.frames : 0;
  std::ostringstream j;
  j << "{\n  \"model\": " << json_str(o.model) << ",\n  \"model_kind\": " << json_str(kind) << ",\n";
  j << "  \"running_condition\": {\"thread_num\": " << s.threads << ", \"intra_threads\": " << s.intra
    << ", \"frame_count\": " << s.frames << ", \"warmup\": " << s.warmup << ", \"run_time_ms\": " << num(s.run_ms)
    << "},\n";
  j << "  \"perf_result\": {\"FPS\": " << num(s.fps) << ", \"average_latency_ms\": " << num(s.avg)
    << ", \"min_latency_ms\": " << num(s.min) << ", \"max_latency_ms\": " << num(s.max) << ", \"p50_latency_ms\": "
    << num(s.p50) << ", \"p90_latency_ms\": " << num(s.p90) << ", \"p99_latency_ms\": " << num(s.p99) << "},\n";
  j << "  \"totals\": {\"layers\": " << layers.size() << ", \"frames_profiled\": "
    << (layers.empty() ? 0 : layers[0].frames) << ", \"layer_time_ms_per_frame\": " << num(kernel_ms)
    << ", \"frame_latency_ms\": " << num(s.avg) << ", \"overhead_ms_per_frame\": " << num(s.avg - kernel_ms) << "},\n";
  j << "  \"layers\": [";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerStats& l = layers[i];
    double mean = l.frames ? l.sum / l.frames : 0;
    j << (i ? ",\n" : "\n") << "    {\"index\": " << i << ", \"node\": " << json_str(l.node)
      << ", \"op_type\": " << json_str(l.op_type) << ", \"kernel\": " << json_str(l.impl) << ", \"output_shape\": [";
    for (size_t d = 0; d < l.output_shape.size(); ++d) j << (d ? ", " : "") << l.output_shape[d];
    j << "], \"frames\": " << l.frames << ", \"mean_ms\": " << num(mean) << ", \"min_ms\": "
      << num(l.frames ? l.min : 0) << ", \"max_ms\": " << num(l.max) << ", \"p50_ms\": "
      << num(perf::latency_stats(l.ms).p50) << ", \"share\": "
      << num(kernel_ms > 0 ? mean / kernel_ms : 0) << "}";
  }
  j << "\n  ]\n}\n";
  std::ofstream f(path);
  f << j.str();
  f.close();
  if (!f) return io_error("cannot write the profile '" + path + "'");
  *written = path;
  return Status::Ok();
}

// One measurement with `threads` sessions of `intra` threads each. Fills `summary` (and `layers` when profiling).
Status measure(const PerfOptions& o, int threads, int intra, bool profile, Summary* summary,
               std::vector<LayerStats>* layers) {
  SessionOptions so;
  so.num_threads = intra;
  std::vector<Worker> workers(threads);
  auto t_load = Clock::now();
  for (auto& w : workers) KW_RETURN_IF_ERROR(Session::open(o.model, so, &w.session));
  std::printf("Load model cost %.3f ms (%d session%s, %d thread%s each).\n", ms_between(t_load, Clock::now()) / threads,
              threads, threads > 1 ? "s" : "", intra, intra > 1 ? "s" : "");
  // Inputs: the same data for every session (each session gets its own copy).
  const auto& infos = workers[0].session->inputs();
  ShapeOverrides shapes;
  KW_RETURN_IF_ERROR(parse_input_shapes(o.input_shapes, &shapes));
  if (o.input_files.size() > infos.size())
    return invalid_argument(std::to_string(o.input_files.size()) + " input files given, the model has " +
                            std::to_string(infos.size()) + " inputs");
  std::mt19937 rng(o.seed);
  NamedTensors feeds;
  for (size_t i = 0; i < infos.size(); ++i) {
    Shape shape;
    KW_RETURN_IF_ERROR(resolve_input_shape(infos, i, shapes, &shape));
    Tensor t;
    if (i < o.input_files.size()) {
      KW_RETURN_IF_ERROR(load_input(o.input_files[i], infos[i], shape, ImageNorm{}, &t));
    } else {
      t = random_input(infos[i].dtype, shape, &rng);
    }
    feeds.emplace_back(infos[i].name, std::move(t));
  }
  for (auto& w : workers)
    for (const auto& [n, t] : feeds) w.feeds.emplace_back(n, t.clone());

  std::atomic<int64_t> next{0};
  std::mutex mu;
  int64_t done = 0;
  double sum_ms = 0, min_ms = 1e300, max_ms = 0;
  Clock::time_point start;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::atomic<bool> failed{false};
  // Every session waits here after its warm-up; the last one starts the clock.
  auto arrive = [&] {
    std::unique_lock<std::mutex> lock(mu);
    if (++ready == threads) {
      start = Clock::now();
      go = true;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return go; });
    }
  };
  const bool timed = o.perf_time_s > 0;
  auto body = [&](Worker& w) {
    // The frame timed here and by bench/kaiwu_bench: Session::run on prepared feeds (perf/latency_stats.h).
    std::vector<Tensor> outs;
    auto frame = [&] { return w.session->run(w.feeds, {}, &outs); };
    w.status = perf::warm_up(frame, o.warmup);
    if (!w.status.ok()) failed = true;
    if (profile) {
      w.session->enable_profiling(true);
      w.session->reset_profile();
    }
    arrive();
    while (!failed) {
      int64_t f = next++;
      if (!timed && f >= o.frame_count) break;
      if (timed && ms_between(start, Clock::now()) >= o.perf_time_s * 1000) break;
      const double ms = perf::timed_ms(frame, &w.status);
      if (!w.status.ok()) {
        failed = true;
        break;
      }
      w.latencies.push_back(ms);
      if (profile) accumulate_profile(*w.session, &w.layers);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      sum_ms += ms;
      min_ms = std::min(min_ms, ms);
      max_ms = std::max(max_ms, ms);
      if (o.progress_every > 0 && done % o.progress_every == 0) {
        double elapsed = ms_between(start, Clock::now());
        std::printf("Frame count: %lld,  Thread Average: %.6f ms,  thread max latency: %.6f ms,  thread min latency: "
                    "%.6f ms,  FPS: %.6f\n",
                    static_cast<long long>(done), sum_ms / done, max_ms, min_ms, elapsed > 0 ? done * 1000.0 / elapsed : 0);
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { body(workers[t]); });
  body(workers[0]);  // the first session runs in the calling thread (as the bench harness does)
  for (auto& th : pool) th.join();
  Clock::time_point end = Clock::now();
  for (auto& w : workers) KW_RETURN_IF_ERROR(w.status);

  std::vector<double> all;
  for (auto& w : workers) all.insert(all.end(), w.latencies.begin(), w.latencies.end());
  if (all.empty()) return invalid_argument("no frame was timed (frame_count / perf_time too small)");
  const perf::LatencyStats ls = perf::latency_stats(all);  // the statistics of bench/kaiwu_bench too
  Summary& s = *summary;
  s.threads = threads;
  s.intra = intra;
  s.frames = static_cast<int>(ls.frames);
  s.warmup = std::max(1, o.warmup);
  s.run_ms = ms_between(start, end);
  s.total_latency = ls.total;
  s.avg = ls.mean;
  s.min = ls.min;
  s.max = ls.max;
  s.p50 = ls.p50;
  s.p90 = ls.p90;
  s.p99 = ls.p99;
  s.fps = s.run_ms > 0 ? ls.frames * 1000.0 / s.run_ms : 0;
  if (profile) {
    // Merge the sessions' per-layer statistics (same graph, same order).
    layers->clear();
    for (auto& w : workers) {
      if (layers->empty()) {
        *layers = w.layers;
        continue;
      }
      if (w.layers.size() != layers->size()) continue;
      for (size_t i = 0; i < w.layers.size(); ++i) {
        LayerStats& l = (*layers)[i];
        l.frames += w.layers[i].frames;
        l.sum += w.layers[i].sum;
        l.min = std::min(l.min, w.layers[i].min);
        l.max = std::max(l.max, w.layers[i].max);
        l.ms.insert(l.ms.end(), w.layers[i].ms.begin(), w.layers[i].ms.end());
      }
    }
  }
  return Status::Ok();
}

void print_summary(const Summary& s) {
  std::printf("Running condition:\n");
  std::printf("  Thread number is: %d\n", s.threads);
  std::printf("  Intra threads is: %d\n", s.intra);
  std::printf("  Frame count   is: %d\n", s.frames);
  std::printf("  Warm-up frames is: %d\n", s.warmup);
  std::printf("  Program run time: %.6f ms\n", s.run_ms);
  std::printf("Perf result:\n");
  std::printf("  Frame totally latency is: %.6f ms\n", s.total_latency);
  std::printf("  Average    latency    is: %.6f ms\n", s.avg);
  std::printf("  Min        latency    is: %.6f ms\n", s.min);
  std::printf("  Max        latency    is: %.6f ms\n", s.max);
  std::printf("  P50        latency    is: %.6f ms\n", s.p50);
  std::printf("  P90        latency    is: %.6f ms\n", s.p90);
  std::printf("  P99        latency    is: %.6f ms\n", s.p99);
  std::printf("  Frame      rate       is: %.6f FPS\n", s.fps);
  std::fflush(stdout);
}

}  // namespace

int run_perf(const PerfOptions& o) {
  if (o.frame_count < 1 && o.perf_time_s <= 0) {
    std::cerr << "kaiwu exec perf: --frame_count must be >= 1\n";
    return 2;
  }
  if (o.thread_num < 1 || o.intra_threads < 1 || o.warmup < 0) {
    std::cerr << "kaiwu exec perf: --thread_num and --intra_threads must be >= 1, --warmup >= 0\n";
    return 2;
  }
  perf::steady_state_allocator();  // as bench/kaiwu_bench, before any model is read (perf/latency_stats.h)
  std::string kind, detail;
  Status st = model_kind(o.model, &kind, &detail);
  if (!st.ok()) {
    std::cerr << "kaiwu exec perf: " << st.to_string() << "\n";
    return 2;
  }
  std::printf("Model: %s (%s; %s)\n", o.model.c_str(), kind.c_str(), detail.c_str());
  const bool profile = !o.profile_path.empty();
  const int total = o.thread_num * o.intra_threads;
  struct Config {
    int threads, intra;
    const char* label;
  };
  std::vector<Config> configs;
  if (o.both_modes && total > 1) {
    configs.push_back(Config{total, 1, "frames in parallel"});
    configs.push_back(Config{1, total, "one frame across threads"});
  } else {
    configs.push_back(Config{o.thread_num, o.intra_threads, ""});
  }
  std::vector<Summary> results;
  std::vector<LayerStats> layers;
  for (size_t c = 0; c < configs.size(); ++c) {
    if (configs.size() > 1)
      std::printf("== %d thread%s: %d session%s x %d thread%s (%s)\n", total, total > 1 ? "s" : "", configs[c].threads,
                  configs[c].threads > 1 ? "s" : "", configs[c].intra, configs[c].intra > 1 ? "s" : "", configs[c].label);
    Summary s;
    // With both modes the profile is taken from the last configuration (one frame across all threads).
    bool prof_here = profile && c + 1 == configs.size();
    st = measure(o, configs[c].threads, configs[c].intra, prof_here, &s, &layers);
    if (!st.ok()) {
      std::cerr << "kaiwu exec perf: " << st.to_string() << "\n";
      return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 2 : 1;
    }
    print_summary(s);
    results.push_back(s);
    if (prof_here) {
      std::string written;
      st = write_profile(o, kind, s, layers, &written);
      if (!st.ok()) {
        std::cerr << "kaiwu exec perf: " << st.to_string() << "\n";
        return 1;
      }
      std::printf("Profile (%zu layers) written to %s\n", layers.size(), written.c_str());
    }
  }
  if (results.size() == 2) {
    std::printf("Threading comparison (%d threads):\n", total);
    std::printf("  %d frames in parallel, 1 thread each : average latency %.6f ms, FPS %.6f\n", total, results[0].avg,
                results[0].fps);
    std::printf("  1 frame across %d threads            : average latency %.6f ms, FPS %.6f\n", total, results[1].avg,
                results[1].fps);
  }
  return 0;
}

}  // namespace kaiwu::cli::exec
