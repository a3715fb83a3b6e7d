// `kaiwu exec perf`: latency/throughput measurement of one model (hrt_model_exec perf), with a per-layer profile.
#pragma once
#include <string>
#include <vector>

namespace kaiwu::cli::exec {

struct PerfOptions {
  std::string model;
  std::vector<std::string> input_files;   // in input order; inputs without a file get seeded random data
  std::vector<std::string> input_shapes;  // "[NAME:]1x3x224x224" items (free dimensions)
  int frame_count = 200;                  // timed frames in total, over all threads
  double perf_time_s = 0;                 // > 0: run for this long instead (frame_count ignored)
  int thread_num = 1;                     // independent sessions, one std::thread each, frames in parallel
  int intra_threads = 1;                  // threads of each session (one frame across K threads)
  int warmup = 10;                        // untimed frames per session before timing (at least 1)
  unsigned seed = 0;                      // random inputs
  std::string profile_path;               // directory (or .json file) for the per-layer profile
  bool both_modes = false;                // also compare T = thread_num*intra_threads as T x 1 and 1 x T
  int progress_every = 200;               // progress line every this many frames (0: none)
};

// Runs the measurement and prints the progress lines and the final block on stdout. Returns the exit code
// (0 ok, 2 bad input, 1 run failure) after printing any error on stderr.
int run_perf(const PerfOptions& o);

}  // namespace kaiwu::cli::exec
