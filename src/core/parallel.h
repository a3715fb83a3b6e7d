// Parallel loops over OpenMP (the threading runtime oneDNN uses, so both share one pool and one thread count).
// Work is split in fixed chunks that do not depend on the thread count, so results are deterministic.
#pragma once
#include <cstdint>

namespace kaiwu {

// Threads used by parallel_for and oneDNN in the calling thread from now on.
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) over [0, n) in chunks of at least `grain` elements, in parallel.
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks <= 1 || get_num_threads() <= 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = c * grain, e = b + grain < n ? b + grain : n;
    fn(b, e);
  }
}

}  // namespace kaiwu
