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

// The cost parameters of a target. Every layer gets a kernel family (conv_int8, dwconv_fp32, transpose, eltwise_q,
// ...) and costs, on one thread:
//   overhead + call + max(compute, memory)
//   compute = padded MACs / gmacs[family] + output elements * out_ns[family]   (convolutions, GEMMs, eltwise_q)
//   memory  = bytes read and written / gbytes[family] (gbytes_big above huge_bytes)   (every family)
// On N threads the MAC part is divided by 1 + (N - 1) * scaling * t1 / (t1 + parallel_us) (small layers gain little),
// the per-output and memory parts likewise with scaling_big when the layer moves more than big_bytes (memory bound);
// mt_overhead_us is added per node. `call` is the fixed cost of one call of a kernel family whose implementation
// sets up a primitive per run (oneDNN convolutions and GEMMs: argument maps, scratchpad, reorders of the bias and
// scales; 2-3 us, against ~0.2 us for Kaiwu's own kernels). In a model whose weights exceed the per-core cache
// (cache_bytes) every call also finds the primitive's code and state evicted by the layers between two frames:
// cold_call more (about 5 us). Depthwise convolutions add a cost per output row and 16-channel block (row_ns: their
// efficiency drops on small images). These dominate the tiny layers (SE blocks, 1x1 images, small classifiers) and
// are divided by the layer's MAC-part speedup (so they do not shrink with threads on tiny layers, whose speedup is
// ~1). The numbers are achieved rates of Kaiwu's real kernels, not hardware peaks: the
// built-in ones were fitted on per-layer profiles on the reference machine (AMD Zen 4, AVX-512 VNNI, 2 cores), and
// `kaiwu perf --calibrate` measures this machine (see perf/calibration.h).
struct TargetSpec {
  std::string name;                    // x86-avx512vnni, x86-avx2, generic
  std::string source = "built-in";     // "built-in" or the calibration file the numbers come from
  double int8_gmacs_per_core = 232.0;  // hardware peaks (reported only)
  double fp32_gmacs_per_core = 58.0;
  double node_overhead_us = 0.3;       // dispatch, profiling hooks and synchronization per executed node
  double view_overhead_us = 0.4;       // Reshape-like nodes (no data moved)
  double parallel_us = 20.0;           // see above
  std::map<std::string, double> call_us;  // family -> fixed cost of one call (us)
  std::map<std::string, double> cold_call_us;  // family -> extra cost of a call in a model bigger than the cache (us)
  int64_t cache_bytes = 1 << 20;          // per-core cache (L2): models whose weights exceed it run cold
  std::map<std::string, double> row_ns;   // family -> cost per output row and 16-channel block (ns)
  std::map<std::string, double> gmacs;    // compute family -> GMAC/s of one thread (padded MACs)
  std::map<std::string, double> out_ns;   // compute family -> ns per output element (requantize, store)
  std::map<std::string, double> gbytes;   // family -> GB/s (bytes read + written) of one thread
  std::map<std::string, double> gbytes_big;  // family -> GB/s of layers moving more than huge_bytes
  int64_t huge_bytes = 8 << 20;
  std::map<std::string, double> scaling;  // family -> efficiency of each additional thread (< 0: slower)
  std::map<std::string, double> scaling_big;  // family -> scaling of layers moving more than big_bytes (memory bound)
  int64_t big_bytes = 2 << 20;                  // about one core's L2 cache
  std::map<std::string, double> mt_overhead_us;  // family -> extra time per node when threads > 1 (fork / join)
};

// The built-in spec of "x86-avx512vnni", "x86-avx2" or "generic" (unknown names get "generic").
TargetSpec builtin_target(const std::string& name);

// The spec `kaiwu perf` and `kaiwu compile` use for target `name`: this machine's calibration file
// (calibration_path()) when it exists, was made for `name` and `name` is the host's target; else builtin_target(name).
// A calibration file that exists but cannot be read is reported in *note and ignored.
TargetSpec target_for(const std::string& name, std::string* note = nullptr);

struct LayerCost {
  std::string name, op_type, kernel;  // kernel family: conv_int8, conv_fp32, dwconv_int8, gemm_fp32, eltwise, ...
  std::string shape;                  // output shape, e.g. [1, 56, 56, 64]
  std::string dtype;                  // output dtype
  int64_t macs = 0;
  int64_t padded_macs = 0;            // MACs as the kernel computes them (channels rounded up to its blocks)
  int64_t out_rows = 0, row_blocks = 0;  // convolutions: output rows, and rows x 16-channel blocks
  int64_t weight_bytes = 0, read_bytes = 0, write_bytes = 0;
  double compute_ms = 0, memory_ms = 0, est_ms = 0;
};

struct Report {
  std::string model, target, target_source;
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
