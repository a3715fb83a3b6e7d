#include "runtime/memory_plan.h"

#include <gtest/gtest.h>

namespace kaiwu::runtime {
namespace {

TEST(MemoryPlan, OverlappingLifetimesNeverShareBytes) {
  std::vector<BufferRequest> reqs = {{1000, 0, 1}, {2000, 1, 2}, {500, 2, 3}, {3000, 3, 4}, {100, 0, 4}};
  std::vector<size_t> off;
  size_t total = plan_memory(reqs, &off);
  for (size_t i = 0; i < reqs.size(); ++i)
    for (size_t j = i + 1; j < reqs.size(); ++j) {
      bool live = !(reqs[i].last_step < reqs[j].first_step || reqs[j].last_step < reqs[i].first_step);
      bool mem = off[i] < off[j] + reqs[j].bytes && off[j] < off[i] + reqs[i].bytes;
      EXPECT_FALSE(live && mem) << i << " and " << j;
    }
  for (size_t o : off) EXPECT_EQ(o % 64, 0u);
  // Reuse: a chain of 5 buffers of equal size needs only 2 slots.
  std::vector<BufferRequest> chain;
  for (int s = 0; s < 5; ++s) chain.push_back({4096, s, s + 1});
  EXPECT_EQ(plan_memory(chain, &off), 2u * 4096);
  EXPECT_LT(total, 1000u + 2000 + 500 + 3000 + 100 + 5 * 64);
}

TEST(MemoryPlan, IsDeterministic) {
  std::vector<BufferRequest> reqs;
  for (int i = 0; i < 50; ++i) reqs.push_back({static_cast<size_t>((i * 7919) % 5000 + 1), i % 10, i % 10 + i % 3});
  std::vector<size_t> a, b;
  EXPECT_EQ(plan_memory(reqs, &a), plan_memory(reqs, &b));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace kaiwu::runtime
