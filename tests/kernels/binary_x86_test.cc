// Differential test of the broadcast-planned binary kernels and Where against the index-arithmetic reference,
// over odd shapes, every kind and the dtypes the ops use; plus the plan's dim collapsing.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/binary.h"
#include "kernels/x86/binary.h"

namespace kaiwu::kernels {
namespace {

using Dims = std::vector<int64_t>;

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (auto v : d) n *= v;
  return n;
}

Dims broadcast(const Dims& a, const Dims& b) {
  Dims o(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < o.size(); ++i) {
    int64_t da = i < o.size() - a.size() ? 1 : a[i - (o.size() - a.size())];
    int64_t db = i < o.size() - b.size() ? 1 : b[i - (o.size() - b.size())];
    o[i] = da == 1 ? db : da;
  }
  return o;
}

template <typename T>
std::vector<T> random_values(int64_t n, unsigned seed, bool nonzero) {
  std::mt19937 rng(seed);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) {
    if constexpr (std::is_floating_point_v<T>)
      x = std::uniform_real_distribution<T>(0.5, 3)(rng) * (rng() % 2 ? 1 : -1);
    else
      x = static_cast<T>(rng() % 7) + (nonzero ? 1 : 0);
  }
  return v;
}

TEST(BinaryX86, PlanCollapsesHotLayouts) {
  x86::BroadcastPlan same = x86::make_broadcast_plan({{2, 3, 4, 5}, {2, 3, 4, 5}}, {2, 3, 4, 5});
  EXPECT_EQ(same.dims, (Dims{120}));
  x86::BroadcastPlan chan = x86::make_broadcast_plan({{2, 3, 4, 5}, {1, 3, 1, 1}}, {2, 3, 4, 5});
  EXPECT_EQ(chan.dims, (Dims{2, 3, 20}));
  EXPECT_EQ(chan.strides[1], (Dims{0, 1, 0}));
  x86::BroadcastPlan se = x86::make_broadcast_plan({{2, 3, 4, 5}, {2, 3, 1, 1}}, {2, 3, 4, 5});
  EXPECT_EQ(se.dims, (Dims{6, 20}));
  EXPECT_EQ(se.strides[1], (Dims{1, 0}));
  x86::BroadcastPlan scalar = x86::make_broadcast_plan({{2, 3, 4, 5}, {}}, {2, 3, 4, 5});
  EXPECT_EQ(scalar.dims, (Dims{120}));
  EXPECT_EQ(scalar.strides[1], (Dims{0}));
  EXPECT_FALSE(x86::make_broadcast_plan({{2, 3}, {4}}, {2, 3}).ok);
}

template <typename T>
void check_kind(BinaryKind k, DType dt, const Dims& as, const Dims& bs, unsigned seed) {
  const Dims os = broadcast(as, bs);
  auto a = random_values<T>(numel(as), seed, false);
  auto b = random_values<T>(numel(bs), seed + 1, k == BinaryKind::kPow ? false : true);
  if constexpr (std::is_integral_v<T>)
    if (k == BinaryKind::kPow)
      for (auto& v : b) v = static_cast<T>(v % 4);
  const size_t out_size = ref::binary_is_comparison(k) ? 1 : sizeof(T);
  std::vector<uint8_t> want(numel(os) * out_size), got(numel(os) * out_size);
  ASSERT_TRUE(ref::binary(k, dt, a.data(), as, b.data(), bs, want.data(), os));
  x86::BroadcastPlan p = x86::make_broadcast_plan({as, bs}, os);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::fill(got.begin(), got.end(), 0xcd);
    ASSERT_TRUE(x86::binary(k, dt, a.data(), b.data(), got.data(), p));
    // Same element function on both sides: the results are bit-identical.
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0)
        << ref::binary_kind_name(k) << " " << dtype_name(dt) << " threads " << threads;
  }
  set_num_threads(1);
}

TEST(BinaryX86, MatchesReferenceOverShapesKindsAndTypes) {
  const std::pair<Dims, Dims> shapes[] = {
      {{7}, {7}},
      {{3, 5}, {}},
      {{}, {3, 5}},
      {{2, 3, 4, 5}, {1, 3, 1, 1}},
      {{2, 3, 4, 5}, {3, 1, 1}},
      {{4, 1, 6}, {5, 1}},
      {{1, 9, 1}, {7, 1, 11}},
      {{2, 17, 1031}, {2, 17, 1}},
      {{3, 1, 40000}, {1, 2, 1}},
      {{0, 3}, {3}},
  };
  const BinaryKind kinds[] = {BinaryKind::kAdd,     BinaryKind::kSub,  BinaryKind::kMul,  BinaryKind::kDiv,
                              BinaryKind::kPow,     BinaryKind::kMin,  BinaryKind::kMax,  BinaryKind::kEqual,
                              BinaryKind::kGreater, BinaryKind::kLess, BinaryKind::kPRelu};
  unsigned seed = 1;
  for (const auto& [as, bs] : shapes) {
    for (BinaryKind k : kinds) {
      SCOPED_TRACE(std::string(ref::binary_kind_name(k)));
      check_kind<float>(k, DType::kF32, as, bs, seed++);
      if (numel(as) * numel(bs) < 100000) {
        check_kind<int32_t>(k, DType::kI32, as, bs, seed++);
        check_kind<uint8_t>(k, DType::kU8, as, bs, seed++);
        check_kind<int64_t>(k, DType::kI64, as, bs, seed++);
        check_kind<double>(k, DType::kF64, as, bs, seed++);
      }
    }
  }
}

TEST(BinaryX86, WhereMatchesReference) {
  const Dims cs = {2, 1, 33}, xs = {3, 1}, ys = {2, 3, 33}, os = {2, 3, 33};
  std::mt19937 rng(3);
  std::vector<uint8_t> c(numel(cs));
  for (auto& v : c) v = rng() % 2;
  auto x = random_values<float>(numel(xs), 4, false), y = random_values<float>(numel(ys), 5, false);
  std::vector<float> want(numel(os)), got(numel(os));
  ref::where(4, c.data(), cs, x.data(), xs, y.data(), ys, want.data(), os);
  x86::where(4, c.data(), x.data(), y.data(), got.data(), x86::make_broadcast_plan({cs, xs, ys}, os));
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace kaiwu::kernels
