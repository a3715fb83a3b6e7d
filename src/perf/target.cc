// Target specs of the cost model: the built-in ones, the per-machine calibration file and the choice between them.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kernels/cpu_info.h"
#include "perf/calibration.h"
#include "perf/cost_model.h"

namespace kaiwu::perf {

TargetSpec builtin_target(const std::string& name) {
  // Achieved one-thread rates of Kaiwu's kernels on the reference machine (AMD Zen 4 EPYC, 2 cores, AVX-512 VNNI),
  // fitted on the per-layer profiles of resnet50, mobilenet_v2, efficientnet_b0, PP-OCRv4 det/rec and fmnist.
  TargetSpec t;
  t.name = name;
  t.call_us = {{"conv_int8", 2.7}, {"dwconv_int8", 2.4}, {"conv_fp32", 2.7}, {"dwconv_fp32", 2.4},
               {"deconv_int8", 2.7}, {"deconv_fp32", 2.7}, {"gemm_int8", 2.3}, {"gemm_fp32", 2.3}};
  t.cold_call_us = {{"conv_int8", 6.2}, {"dwconv_int8", 4.6}};
  t.row_ns = {{"dwconv_int8", 28.8}};
  t.gmacs = {{"conv_int8", 210.0}, {"conv_fp32", 58.0}, {"dwconv_int8", 26.4}, {"dwconv_fp32", 30.0},
             {"deconv_fp32", 6.0},  {"deconv_int8", 60.0}, {"gemm_int8", 150.0}, {"gemm_fp32", 42.4},
             {"conv_int16", 75.0},  {"dwconv_int16", 20.0}};
  t.out_ns = {{"conv_int8", 0.105}, {"conv_fp32", 0.45}, {"conv_int16", 0.3}, {"dwconv_int16", 0.3},
              {"eltwise_q", 0.19}};
  t.gbytes = {{"conv_int8", 100.0},  {"conv_fp32", 100.0}, {"dwconv_int8", 30.0}, {"dwconv_fp32", 16.0},
              {"deconv_fp32", 30.0}, {"deconv_int8", 30.0}, {"gemm_int8", 14.0},  {"gemm_fp32", 14.0},
              {"conv_int16", 50.0},  {"dwconv_int16", 30.0}, {"lut16", 12.0},     {"eltwise", 80.0},
              {"transcendental", 6.5}, {"eltwise_q", 40.0},
              {"lut", 98.0},         {"transpose", 15.5},    {"copy", 40.0},       {"resize", 12.0},
              {"resize_q", 3.3},     {"pool", 22.0},        {"pool_q", 1.0},      {"global_pool", 40.0},
              {"global_pool_q", 10.3},
              {"reduce", 20.0}};
  t.scaling = {{"conv_int8", 1.0},   {"conv_fp32", 0.87},   {"dwconv_int8", 1.0}, {"dwconv_fp32", 0.5},
               {"deconv_fp32", 0.75}, {"deconv_int8", 0.75}, {"gemm_int8", 0.85},  {"gemm_fp32", 1.0},
               {"conv_int16", 0.9},   {"dwconv_int16", 1.0}, {"lut16", 0.9},      {"eltwise", 0.0},
               {"transcendental", 0.5}, {"eltwise_q", 1.0},
               {"lut", 0.5},          {"transpose", 0.5},   {"copy", 0.0},        {"resize", 0.0},
               {"resize_q", 0.1},     {"pool", 0.8},         {"pool_q", 0.66},     {"global_pool", 0.0},
               {"global_pool_q", 0.2},
               {"reduce", 0.0}};
  t.gbytes_big = {{"eltwise", 23.0}};
  t.scaling_big = {{"conv_int8", 0.1}, {"dwconv_int8", 0.1}, {"eltwise_q", 0.1}, {"lut", -0.55}, {"transpose", -0.3}};
  if (name == "x86-avx512vnni") return t;
  if (name == "x86-avx2") {  // no VNNI: int8 through 16-bit products at half the vector width; fp32 at half width
    t.int8_gmacs_per_core = 64.0;
    t.fp32_gmacs_per_core = 32.0;
    for (auto& [k, v] : t.gmacs) v *= k.find("int8") != std::string::npos ? 0.3 : 0.55;
    return t;
  }
  t.name = "generic";  // scalar-ish fallbacks
  t.int8_gmacs_per_core = 4.0;
  t.fp32_gmacs_per_core = 4.0;
  for (auto& [k, v] : t.gmacs) v *= 0.05;
  for (auto& [k, v] : t.gbytes) v *= 0.5;
  return t;
}

namespace {

// The microbenchmark of `kaiwu perf --calibrate` on the reference machine (one thread). A calibration file scales
// each built-in (in-model) rate by measured / reference, so the numbers carry the machine's speed while the in-model
// effects fitted into the built-in rates (cold caches, layouts, fused epilogues) stay.
TargetSpec reference_microbenchmark() {
  TargetSpec t;
  t.node_overhead_us = 0.03;
  t.call_us = {{"conv_int8", 1.93}, {"dwconv_int8", 1.68}};     // tiny images
  t.cold_call_us = {{"conv_int8", 1.16}, {"dwconv_int8", 1.09}};  // the same after evicting 4 MB
  t.row_ns = {{"dwconv_int8", 25.7}};
  t.gmacs = {{"conv_int8", 235.7}, {"conv_fp32", 60.1}, {"dwconv_int8", 22.4}, {"dwconv_fp32", 34.9},
             {"deconv_fp32", 28.7}, {"gemm_fp32", 51.8}};
  t.out_ns = {{"conv_int8", 0.135}, {"conv_fp32", 0.142}, {"eltwise_q", 0.1744}};
  t.gbytes = {{"gemm_fp32", 85.3}, {"copy", 91.4},     {"eltwise", 83.5},
              {"global_pool", 79.5}, {"pool", 28.9},   {"pool_q", 0.9},    {"reduce", 27.8},
              {"resize", 16.2},    {"resize_q", 3.1},  {"transcendental", 32.5}, {"transpose", 55.8},
              {"lut", 93.5}};
  return t;
}

}  // namespace

std::string cpu_model_slug() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 1);
      break;
    }
  }
  std::string slug;
  for (char c : model) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) slug += static_cast<char>(std::tolower(u));
    else if (!slug.empty() && slug.back() != '_') slug += '_';
  }
  while (!slug.empty() && slug.back() == '_') slug.pop_back();
  return slug.empty() ? "unknown_cpu" : slug;
}

std::string calibration_path() {
  if (const char* p = std::getenv("KAIWU_PERF_CALIBRATION"); p && *p) return p;
  std::string base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) base = x;
  else if (const char* h = std::getenv("HOME"); h && *h) base = std::string(h) + "/.cache";
  else base = "/tmp";
  return base + "/kaiwu/perf_" + cpu_model_slug() + ".json";
}

Status read_calibration(const std::string& path, TargetSpec* t) {
  std::ifstream f(path);
  if (!f) return not_found("calibration file '" + path + "' cannot be opened");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    return invalid_argument("calibration file '" + path + "' is not JSON: " + e.what());
  }
  if (!j.is_object() || j.value("format", std::string()) != "kaiwu-perf-calibration")
    return invalid_argument("calibration file '" + path + "': \"format\" is not \"kaiwu-perf-calibration\"");
  if (!j.contains("target") || !j["target"].is_string())
    return invalid_argument("calibration file '" + path + "': missing string key \"target\"");
  TargetSpec r = builtin_target(j["target"].get<std::string>());
  auto scalar = [&](const char* key, double* v) -> Status {
    if (!j.contains(key)) return Status::Ok();
    if (!j[key].is_number() || j[key].get<double>() < 0)
      return invalid_argument("calibration file '" + path + "': \"" + key + "\" must be a number >= 0");
    *v = j[key].get<double>();
    return Status::Ok();
  };
  auto table = [&](const char* key, std::map<std::string, double>* m, bool positive) -> Status {
    if (!j.contains(key)) return Status::Ok();
    if (!j[key].is_object())
      return invalid_argument("calibration file '" + path + "': \"" + key + "\" must be an object");
    for (const auto& [fam, v] : j[key].items()) {
      if (!v.is_number() || v.get<double>() < 0 || (positive && v.get<double>() <= 0))
        return invalid_argument("calibration file '" + path + "': \"" + key + "\"." + fam + " must be a number " +
                                (positive ? "> 0" : ">= 0"));
      (*m)[fam] = v.get<double>();
    }
    return Status::Ok();
  };
  TargetSpec m;  // the measured microbenchmark rates
  m.node_overhead_us = -1;
  KW_RETURN_IF_ERROR(scalar("node_overhead_us", &m.node_overhead_us));
  if (j.contains("cache_bytes")) {
    if (!j["cache_bytes"].is_number_integer() || j["cache_bytes"].get<int64_t>() <= 0)
      return invalid_argument("calibration file '" + path + "': \"cache_bytes\" must be an integer > 0");
    r.cache_bytes = j["cache_bytes"].get<int64_t>();
  }
  KW_RETURN_IF_ERROR(table("call_us", &m.call_us, false));
  KW_RETURN_IF_ERROR(table("cold_call_us", &m.cold_call_us, false));
  KW_RETURN_IF_ERROR(table("row_ns", &m.row_ns, false));
  KW_RETURN_IF_ERROR(table("gmacs", &m.gmacs, true));
  KW_RETURN_IF_ERROR(table("out_ns", &m.out_ns, false));
  KW_RETURN_IF_ERROR(table("gbytes", &m.gbytes, true));
  KW_RETURN_IF_ERROR(table("scaling", &m.scaling, false));
  const TargetSpec ref = reference_microbenchmark();
  auto apply = [](const std::map<std::string, double>& measured, const std::map<std::string, double>& reference,
                  std::map<std::string, double>* rates) {
    for (const auto& [fam, v] : measured) {
      auto rf = reference.find(fam);
      auto cur = rates->find(fam);
      if (rf != reference.end() && rf->second > 0 && cur != rates->end()) cur->second *= v / rf->second;
      else if (cur == rates->end()) (*rates)[fam] = v;
    }
  };
  apply(m.call_us, ref.call_us, &r.call_us);
  apply(m.cold_call_us, ref.cold_call_us, &r.cold_call_us);
  apply(m.row_ns, ref.row_ns, &r.row_ns);
  apply(m.gmacs, ref.gmacs, &r.gmacs);
  apply(m.out_ns, ref.out_ns, &r.out_ns);
  apply(m.gbytes, ref.gbytes, &r.gbytes);
  if (m.node_overhead_us > 0)
    r.node_overhead_us *= std::min(4.0, std::max(0.25, m.node_overhead_us / ref.node_overhead_us));
  // Threads never help more inside a model than in the microbenchmark.
  for (const auto& [fam, v] : m.scaling)
    if (r.scaling.count(fam)) r.scaling[fam] = std::min(r.scaling[fam], v);
  r.source = path;
  *t = std::move(r);
  return Status::Ok();
}

std::string calibration_json(const TargetSpec& t, const std::string& cpu, int threads,
                             const std::string& measurements_json) {
  nlohmann::ordered_json j;
  j["format"] = "kaiwu-perf-calibration";
  j["version"] = 1;
  j["target"] = t.name;
  j["cpu"] = cpu;
  j["threads"] = threads;
  j["node_overhead_us"] = t.node_overhead_us;
  j["call_us"] = t.call_us;
  j["cold_call_us"] = t.cold_call_us;
  j["cache_bytes"] = t.cache_bytes;
  j["row_ns"] = t.row_ns;
  j["gmacs"] = t.gmacs;
  j["out_ns"] = t.out_ns;
  j["gbytes"] = t.gbytes;
  j["scaling"] = t.scaling;
  try {
    j["measurements"] = nlohmann::ordered_json::parse(measurements_json.empty() ? "[]" : measurements_json);
  } catch (const std::exception&) {
    j["measurements"] = nlohmann::ordered_json::array();
  }
  return j.dump(2) + "\n";
}

TargetSpec target_for(const std::string& name, std::string* note) {
  const std::string path = calibration_path();
  std::ifstream probe(path);
  if (probe && name == kernels::host_target()) {
    TargetSpec t;
    Status st = read_calibration(path, &t);
    if (st.ok() && t.name == name) return t;
    if (note) *note = st.ok() ? "calibration file '" + path + "' is for target " + t.name + ", not " + name
                              : st.to_string() + " (ignored; using the built-in factors)";
  }
  return builtin_target(name);
}

}  // namespace kaiwu::perf
