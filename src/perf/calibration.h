// The per-machine calibration file of the cost model (written by `kaiwu perf --calibrate`, read by `kaiwu perf` and
// `kaiwu compile` through target_for()): a JSON object
//   {"format": "kaiwu-perf-calibration", "version": 1, "target": "x86-avx512vnni", "cpu": "...", "threads": 2,
//    "node_overhead_us": .., "call_us" / "cold_call_us": {family: us per call}, "row_ns": {family: ns per row block},
//    "cache_bytes": per-core L2 size,
//    "gmacs": {family: GMAC/s}, "out_ns": {family: ns per output}, "gbytes": {family: GB/s},
//    "scaling": {family: efficiency of each added thread}, "measurements": [...]}  (the microbenchmark results)
// read_calibration scales each built-in (in-model) rate by measured / reference-machine value; families missing
// from the file keep their built-in values.
#pragma once
#include <string>

#include "kaiwu/status.h"
#include "perf/cost_model.h"

namespace kaiwu::perf {

// $KAIWU_PERF_CALIBRATION if set, else $XDG_CACHE_HOME (or ~/.cache)/kaiwu/perf_<cpu-model>.json.
std::string calibration_path();
// The processor's model name from /proc/cpuinfo reduced to [a-z0-9_] ("amd_epyc"), or "unknown_cpu".
std::string cpu_model_slug();
// Reads a calibration file over builtin_target(its target) into *t (t->source = path). Errors name the file and key.
Status read_calibration(const std::string& path, TargetSpec* t);
// The calibration file text of `t`; `cpu`, `threads` and the raw `measurements_json` (a JSON array) are recorded.
std::string calibration_json(const TargetSpec& t, const std::string& cpu, int threads,
                             const std::string& measurements_json);

}  // namespace kaiwu::perf
