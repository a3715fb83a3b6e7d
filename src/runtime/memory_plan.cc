#include "runtime/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace kaiwu::runtime {

size_t plan_memory(const std::vector<BufferRequest>& reqs, std::vector<size_t>* offsets) {
  const size_t n = reqs.size();
  offsets->assign(n, 0);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Largest first, ties by first use, then index: deterministic greedy best-fit.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (reqs[a].bytes != reqs[b].bytes) return reqs[a].bytes > reqs[b].bytes;
    return reqs[a].first_step < reqs[b].first_step;
  });
  struct Placed { size_t off, end; int first, last; };
  std::vector<Placed> placed;
  size_t total = 0;
  for (size_t idx : order) {
    const BufferRequest& r = reqs[idx];
    size_t bytes = (r.bytes + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    std::vector<std::pair<size_t, size_t>> busy;
    for (const Placed& p : placed)
      if (!(p.last < r.first_step || r.last_step < p.first)) busy.push_back({p.off, p.end});
    std::sort(busy.begin(), busy.end());
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cur = 0;
    for (const auto& [b, e] : busy) {
      if (b >= cur && b - cur >= bytes && b - cur < best_gap) {
        best = cur;
        best_gap = b - cur;
      }
      cur = std::max(cur, e);
    }
    if (best == SIZE_MAX) best = cur;
    (*offsets)[idx] = best;
    placed.push_back({best, best + bytes, r.first_step, r.last_step});
    total = std::max(total, best + bytes);
  }
  return total;
}

}  // namespace kaiwu::runtime
