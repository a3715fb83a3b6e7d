// kaiwu_bench: batch latency of one model with Kaiwu's runtime; prints one JSON line (see usage()).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "kaiwu/session.h"
#include "perf/latency_stats.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string model;
  std::vector<std::string> inputs;  // [NAME=]FILE.npy, in input order
  std::vector<std::string> shapes;  // [NAME=]1x3x224x224 for random inputs with free dimensions
  int threads = 1;
  int warmup = 20;
  int runs = 50;
  unsigned seed = 0;
  bool print_times = false;
  bool reference_only = false;
  std::string save_outputs;  // directory: write each output as <index>.npy after the timed runs
};

void usage() {
  std::cerr << "usage: kaiwu_bench -m MODEL [-i [NAME=]FILE.npy]... [--shape [NAME=]1x3x224x224]...\n"
               "                   [-t THREADS=1] [-w WARMUP=20] [-r RUNS=50] [--seed N] [--times]\n"
               "                   [--save-outputs DIR] [--reference]\n"
               "Inputs without -i get seeded random data (N(0,1) floats, uniform bytes, zeros otherwise) of the\n"
               "model's input shape; free dimensions must be given with --shape. Prints one JSON line: model, threads, latency\n"
               "statistics in ms over RUNS timed runs after WARMUP runs (median = p50, p90/p99 nearest rank, as\n"
               "`kaiwu exec perf`), peak RSS (VmHWM) after load and after runs.\n";
}

// Escapes a string for a JSON string literal.
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

std::string json_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

// Reads a "VmXXX:   1234 kB" field of /proc/self/status, in MiB (-1 when unavailable).
double proc_status_mb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::strtod(line.c_str() + n + 1, nullptr) / 1024.0;
    }
  }
  return -1.0;
}

[[noreturn]] void fail(const Args& a, const std::string& msg, int code) {
  std::cout << "{\"engine\":\"kaiwu\",\"model\":" << json_str(a.model) << ",\"threads\":" << a.threads
            << ",\"error\":" << json_str(msg) << "}" << std::endl;
  std::exit(code);
}

bool parse_shape(const std::string& text, kaiwu::Shape* out) {
  out->clear();
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, 'x')) {
    if (tok.empty()) return false;
    char* end = nullptr;
    long long v = std::strtoll(tok.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return false;
    out->push_back(v);
  }
  return !out->empty();
}

// Splits "NAME=VALUE" (NAME may be empty when there is no '=').
std::pair<std::string, std::string> split_named(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) return {"", spec};
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

bool parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (k == "-h" || k == "--help") {
      usage();
      std::exit(0);
    } else if (k == "--times") {
      a->print_times = true;
    } else if (k == "--reference") {
      a->reference_only = true;
    } else if (!next(&v)) {
      std::cerr << "kaiwu_bench: missing value for " << k << "\n";
      return false;
    } else if (k == "-m" || k == "--model") {
      a->model = v;
    } else if (k == "-i" || k == "--input") {
      a->inputs.push_back(v);
    } else if (k == "--shape") {
      a->shapes.push_back(v);
    } else if (k == "-t" || k == "--threads") {
      a->threads = std::atoi(v.c_str());
    } else if (k == "-w" || k == "--warmup") {
      a->warmup = std::atoi(v.c_str());
    } else if (k == "-r" || k == "--runs") {
      a->runs = std::atoi(v.c_str());
    } else if (k == "--seed") {
      a->seed = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (k == "--save-outputs") {
      a->save_outputs = v;
    } else {
      std::cerr << "kaiwu_bench: unknown option " << k << "\n";
      return false;
    }
  }
  if (a->model.empty() || a->threads < 1 || a->warmup < 0 || a->runs < 1) return false;
  return true;
}

// Fills `t` (already allocated) with seeded random data as `kaiwu exec perf` does: N(0,1) for floats, uniform
// bytes for uint8/int8, zeros for other types.
void fill_random(kaiwu::Tensor* t, std::mt19937* rng) {
  if (t->dtype() == kaiwu::DType::kF32) {
    std::normal_distribution<float> nd(0.f, 1.f);
    float* p = t->data<float>();
    for (int64_t i = 0; i < t->numel(); ++i) p[i] = nd(*rng);
  } else if (t->dtype() == kaiwu::DType::kU8 || t->dtype() == kaiwu::DType::kI8) {
    std::uniform_int_distribution<int> ud(0, 255);
    uint8_t* p = static_cast<uint8_t*>(t->raw());
    for (int64_t i = 0; i < t->numel(); ++i) p[i] = static_cast<uint8_t>(ud(*rng));
  }  // other types: Tensor::zeros already zero-filled it
}

// Builds the feeds: .npy files given with -i, random data for the remaining inputs.
void make_feeds(const Args& a, const kaiwu::Session& s, kaiwu::NamedTensors* feeds) {
  const auto& infos = s.inputs();
  std::vector<bool> done(infos.size(), false);
  auto index_of = [&](const std::string& name, size_t positional) -> size_t {
    if (name.empty()) return positional;
    for (size_t j = 0; j < infos.size(); ++j)
      if (infos[j].name == name) return j;
    fail(a, "the model has no input named '" + name + "'", 2);
    return 0;
  };
  for (size_t k = 0; k < a.inputs.size(); ++k) {
    auto [name, path] = split_named(a.inputs[k]);
    size_t j = index_of(name, k);
    if (j >= infos.size()) fail(a, "more inputs given than the model has", 2);
    kaiwu::Tensor t;
    kaiwu::Status st = kaiwu::read_npy(path, &t);
    if (!st.ok()) fail(a, st.to_string(), 2);
    feeds->emplace_back(infos[j].name, std::move(t));
    done[j] = true;
  }
  std::vector<kaiwu::Shape> shapes(infos.size());
  for (size_t j = 0; j < infos.size(); ++j) shapes[j] = infos[j].shape;
  for (size_t k = 0; k < a.shapes.size(); ++k) {
    auto [name, text] = split_named(a.shapes[k]);
    size_t j = index_of(name, k);
    if (j >= infos.size()) fail(a, "more --shape given than the model has inputs", 2);
    if (!parse_shape(text, &shapes[j])) fail(a, "bad --shape '" + a.shapes[k] + "' (want e.g. 1x3x224x224)", 2);
  }
  std::mt19937 rng(a.seed);
  for (size_t j = 0; j < infos.size(); ++j) {
    if (done[j]) continue;
    for (int64_t d : shapes[j])
      if (d < 0) fail(a, "input '" + infos[j].name + "' has free dimensions " + kaiwu::shape_to_string(shapes[j]) +
                             ": give -i FILE.npy or --shape", 2);
    kaiwu::Tensor t = kaiwu::Tensor::zeros(infos[j].dtype, shapes[j]);
    fill_random(&t, &rng);
    feeds->emplace_back(infos[j].name, std::move(t));
  }
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, &a)) {
    usage();
    return 2;
  }
  kaiwu::perf::steady_state_allocator();  // as `kaiwu exec perf` (perf/latency_stats.h)
  double rss_base = proc_status_mb("VmRSS");
  kaiwu::SessionOptions opt;
  opt.num_threads = a.threads;
  opt.reference_only = a.reference_only;
  std::unique_ptr<kaiwu::Session> s;
  auto t0 = Clock::now();
  kaiwu::Status st = kaiwu::Session::open(a.model, opt, &s);
  double load_ms = ms_since(t0);
  if (!st.ok()) fail(a, st.to_string(), 2);
  double hwm_load = proc_status_mb("VmHWM");

  kaiwu::NamedTensors feeds;
  make_feeds(a, *s, &feeds);
  // The timing loop and statistics of `kaiwu exec perf` (perf/latency_stats.h): Session::run on prepared feeds.
  std::vector<kaiwu::Tensor> outs;
  auto frame = [&] { return s->run(feeds, {}, &outs); };
  double first_ms = 0;
  st = kaiwu::perf::warm_up(frame, a.warmup, &first_ms);  // at least one untimed run (plans, packing)
  if (!st.ok()) fail(a, st.to_string(), 1);
  std::vector<double> ms;
  ms.reserve(a.runs);
  for (int i = 0; i < a.runs; ++i) {
    ms.push_back(kaiwu::perf::timed_ms(frame, &st));
    if (!st.ok()) fail(a, st.to_string(), 1);
  }
  double hwm_runs = proc_status_mb("VmHWM");
  if (!a.save_outputs.empty()) {
    for (size_t i = 0; i < outs.size(); ++i) {
      st = kaiwu::write_npy(a.save_outputs + "/" + std::to_string(i) + ".npy", outs[i]);
      if (!st.ok()) fail(a, st.to_string(), 1);
    }
  }
  const kaiwu::perf::LatencyStats ls = kaiwu::perf::latency_stats(ms);

  std::ostringstream o;
  o << "{\"engine\":\"kaiwu\",\"model\":" << json_str(a.model) << ",\"threads\":" << s->num_threads()
    << ",\"warmup\":" << a.warmup << ",\"runs\":" << a.runs << ",\"input_shapes\":[";
  for (size_t j = 0; j < feeds.size(); ++j)
    o << (j ? "," : "") << json_str(feeds[j].first + ":" + kaiwu::shape_to_string(feeds[j].second.shape()));
  o << "],\"median_ms\":" << json_num(ls.p50) << ",\"mean_ms\":" << json_num(ls.mean) << ",\"min_ms\":"
    << json_num(ls.min) << ",\"max_ms\":" << json_num(ls.max) << ",\"p90_ms\":" << json_num(ls.p90)
    << ",\"p99_ms\":" << json_num(ls.p99)
    << ",\"load_ms\":" << json_num(load_ms) << ",\"first_run_ms\":" << json_num(first_ms)
    << ",\"rss_base_mb\":" << json_num(rss_base) << ",\"peak_rss_after_load_mb\":" << json_num(hwm_load)
    << ",\"peak_rss_mb\":" << json_num(hwm_runs);
  if (a.print_times) {
    o << ",\"times_ms\":[";
    for (size_t i = 0; i < ms.size(); ++i) o << (i ? "," : "") << json_num(ms[i]);
    o << "]";
  }
  o << "}";
  std::cout << o.str() << std::endl;
  return 0;
}
