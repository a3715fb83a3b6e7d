// Frame timing shared by the two measuring runners, `kaiwu exec perf` (tools/kaiwu/exec_perf.cc) and the bench
// harness (bench/kaiwu_bench.cc), so that both time the same thing and summarize it the same way:
//  - timed_ms(f): wall time of one call of f (steady clock), in ms; the runners time exactly Session::run on
//    prepared feeds (inputs made and copied before, outputs returned by run; nothing else inside the clock);
//  - warm_up(f, n): n untimed calls (at least one: plans, weight packing, first-touch of the arena);
//  - latency_stats(ms): mean, min, max, p50 (the median: mean of the middle two), p90 / p99 (nearest rank);
//  - steady_state_allocator(): called by both before loading the model, so that neither pays what the other does
//    not: without it glibc's dynamic mmap/trim thresholds depend on the process's earlier allocations (the CLI
//    reads the whole model once more than the harness), and one runner mmaps, page-faults and unmaps each frame's
//    output buffers (about 130 faults a frame for PP-OCR rec) while the other reuses heap memory.
// Header-only (no library dependency): the bench harness links only the runtime.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "kaiwu/status.h"

namespace kaiwu::perf {

struct LatencyStats {
  int64_t frames = 0;
  double total = 0, mean = 0, min = 0, max = 0, p50 = 0, p90 = 0, p99 = 0;  // ms
};

// The nearest-rank percentile (q in [0, 1]) of ascending `sorted` (0 when empty).
inline double nearest_rank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Statistics of per-frame latencies in ms (all zero when empty).
inline LatencyStats latency_stats(std::vector<double> ms) {
  LatencyStats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  s.frames = static_cast<int64_t>(n);
  for (double v : ms) s.total += v;
  s.mean = s.total / static_cast<double>(n);
  s.min = ms.front();
  s.max = ms.back();
  s.p50 = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  s.p90 = nearest_rank(ms, 0.90);
  s.p99 = nearest_rank(ms, 0.99);
  return s;
}

// The allocator state of a long-running application (glibc): buffers up to 32 MB come from the heap and freed
// memory is kept (trimmed above 64 MB), so per-frame output buffers are reused, not mapped and faulted in anew.
inline void steady_state_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

// Wall time of one call of `f` in ms; `f` returns a Status, stored in *st.
template <typename F>
double timed_ms(F&& f, Status* st) {
  const auto t0 = std::chrono::steady_clock::now();
  *st = f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// `n` untimed calls of `f` (at least one), stopping at the first error; *first_ms gets the first call's time.
template <typename F>
Status warm_up(F&& f, int n, double* first_ms = nullptr) {
  for (int i = 0; i < std::max(1, n); ++i) {
    Status st;
    const double ms = timed_ms(f, &st);
    if (i == 0 && first_ms) *first_ms = ms;
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace kaiwu::perf
