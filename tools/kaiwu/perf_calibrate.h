// `kaiwu perf --calibrate`: a short machine-calibration microbenchmark of the cost model (perf/cost_model.h). Runs one
// small graph per kernel family through the real runtime (oneDNN int8/fp32 convolutions 1x1, 3x3, depthwise,
// transposed, GEMM, elementwise, quantized elementwise, transpose, concat, resize, pools, softmax, a chain of tiny
// nodes for the per-node overhead; int8 convolutions on tiny images, also after evicting the caches, and depthwise
// ones on tall vs wide images for the fixed costs call_us / cold_call_us / row_ns) on 1 and N threads, and derives
// the achieved rates of the target spec.
#pragma once
#include <string>

#include "kaiwu/status.h"
#include "perf/cost_model.h"

namespace kaiwu::cli {

// Measures this machine with 1 and `threads` threads (each case for about `seconds_per_case`). *out starts from
// builtin_target(host target); measured families replace their numbers. *measurements_json gets the raw timings
// (a JSON array). Progress lines go to stdout when `verbose`.
Status calibrate_target(int threads, double seconds_per_case, bool verbose, perf::TargetSpec* out,
                        std::string* measurements_json);

}  // namespace kaiwu::cli
