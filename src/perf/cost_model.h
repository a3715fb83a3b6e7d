// Static performance estimate of a model on a target: per layer MACs, bytes moved, the kernel family and an
// estimated time from the target's compute peak and memory bandwidth with per-kernel efficiency factors (a roofline
// with a fixed per-node overhead). Works on any graph Kaiwu runs — float, QDQ, fixed-point or the deployable graph
// (after the CPU passes: NHWC layouts, fused convolutions).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::perf {

// Per-core peaks and efficiency factors of a target. The built-in numbers come from measurements on this project's
// reference machine (AMD Zen 4, AVX-512 VNNI): 2 cores give ~930 GOP/s int8 and ~234 GFLOP/s fp32.
struct TargetSpec {
  std::string name;
  double int8_gmacs_per_core = 232.0;  // multiply-accumulates per second (1 MAC = 2 ops)
  double fp32_gmacs_per_core = 58.0;
  double dram_gbytes_per_s = 20.0;     // effective memory bandwidth (all cores)
  double cache_gbytes_per_s = 120.0;   // when a layer's bytes fit in the last-level cache (activations mostly do)
  int64_t cache_bytes = 16 << 20;      // the usable last-level cache
  double node_overhead_us = 3.0;       // dispatch and synchronization per node
  double thread_scaling = 0.92;        // efficiency of each additional thread
  std::map<std::string, double> efficiency;  // kernel family -> fraction of the peak reached
};

// The built-in spec of "x86-avx512vnni", "x86-avx2" or "generic" (unknown names get "generic").
TargetSpec builtin_target(const std::string& name);

struct LayerCost {
  std::string name, op_type, kernel;  // kernel: conv_int8, conv_fp32, dwconv_int8, gemm_int8, eltwise, ...
  std::string shape;                  // output shape, e.g. [1, 56, 56, 64]
  std::string dtype;                  // output dtype
  int64_t macs = 0;
  int64_t weight_bytes = 0, read_bytes = 0, write_bytes = 0;
  double compute_ms = 0, memory_ms = 0, est_ms = 0;
};

struct Report {
  std::string model, target;
  int threads = 1;
  std::vector<LayerCost> layers;  // in execution order
  int64_t total_macs = 0, weight_bytes = 0, read_bytes = 0, write_bytes = 0, peak_activation_bytes = 0;
  int64_t model_bytes = 0;        // all initializers
  double latency_ms = 0;          // one frame on `threads` threads
  double latency_1t_ms = 0;       // one frame on one thread
  double fps = 0;                 // 1000 / latency_ms
  double fps_parallel = 0;        // `threads` independent frames, one thread each
};

// Estimates `m` with input shapes `inputs` (by name; missing: declared static shapes, symbolic dims = 1).
Status estimate(const ir::Model& m, const std::map<std::string, Shape>& inputs, const TargetSpec& target, int threads,
                Report* out);

// P.json: {"summary": {...}, "layers": [...], "by_op_type": {...}}.
std::string to_json(const Report& r);
// P.html: one self-contained page (no network, no external scripts): summary, per-layer table sortable by any
// column, SVG bar chart of the slowest layers, time split by op type.
std::string to_html(const Report& r);

}  // namespace kaiwu::perf
