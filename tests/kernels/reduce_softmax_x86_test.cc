// Differential tests of the optimized f32 reductions and softmax against the references (double accumulation).
// Stated tolerance: sums/means within 1e-6 of the sum (mean) of |x| over the reduced elements (float lanes vs
// double accumulation), exact for max;
// softmax within 1e-5 relative + 1e-9 absolute.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/ref/reduce.h"
#include "kernels/ref/softmax.h"
#include "kernels/x86/reduce.h"
#include "kernels/x86/softmax.h"

namespace kaiwu::kernels {
namespace {

std::vector<float> random_vec(int64_t n, unsigned seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(ReduceX86, MatchesReferenceOnBlockLayouts) {
  struct Case {
    std::vector<int64_t> shape;
    std::vector<bool> mask;
  };
  const Case cases[] = {
      {{2, 64, 7, 7}, {false, false, true, true}},  // global average pool
      {{3, 5, 1031}, {false, false, true}},         // last axis with a tail
      {{5, 33, 17}, {false, true, false}},          // middle axis
      {{37, 2, 3}, {true, false, false}},           // leading axis
      {{4, 1, 6}, {true, true, true}},              // everything
      {{1, 3000, 1}, {false, true, true}},          // size-1 dims around
      {{2, 3}, {false, false}},                     // nothing reduced
      {{3, 1, 5}, {false, true, false}},            // only a size-1 dim reduced: a copy
  };
  unsigned seed = 1;
  for (const Case& c : cases) {
    int64_t n = 1, m = 1;
    for (size_t d = 0; d < c.shape.size(); ++d) {
      n *= c.shape[d];
      if (!c.mask[d]) m *= c.shape[d];
    }
    auto x = random_vec(n, seed++, -2.f, 2.f);
    std::vector<float> ax(x.size());
    for (size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
    for (auto k : {ref::ReduceKind::kSum, ref::ReduceKind::kMean, ref::ReduceKind::kMax}) {
      std::vector<float> want(m), got(m + 1, 777.f), scale(m);
      ref::reduce(k == ref::ReduceKind::kMax ? ref::ReduceKind::kSum : k, DType::kF32, ax.data(), c.shape, c.mask,
                  scale.data());
      ASSERT_TRUE(ref::reduce(k, DType::kF32, x.data(), c.shape, c.mask, want.data()));
      ASSERT_TRUE(x86::reduce_f32(k, x.data(), c.shape, c.mask, got.data()));
      EXPECT_EQ(got[m], 777.f);
      for (int64_t i = 0; i < m; ++i) {
        if (k == ref::ReduceKind::kMax)
          EXPECT_EQ(got[i], want[i]);
        else
          EXPECT_NEAR(got[i], want[i], 1e-6 * scale[i] + 1e-7) << "case " << seed << " i " << i;
      }
    }
  }
  // Two separate reduced blocks: not handled by the fast path.
  std::vector<float> x(24), y(3);
  EXPECT_FALSE(x86::reduce_f32(ref::ReduceKind::kSum, x.data(), {2, 3, 4}, {true, false, true}, y.data()));
}

TEST(ReduceX86, ReferenceEmptyAndNan) {
  std::vector<float> none, y(2);
  ASSERT_TRUE(ref::reduce(ref::ReduceKind::kMax, DType::kF32, none.data(), {2, 0}, {false, true}, y.data()));
  EXPECT_EQ(y[0], -INFINITY);
  ASSERT_TRUE(ref::reduce(ref::ReduceKind::kSum, DType::kF32, none.data(), {2, 0}, {false, true}, y.data()));
  EXPECT_EQ(y[1], 0.f);
  std::vector<float> x = {1.f, NAN, 3.f};
  float m = 0;
  ref::reduce(ref::ReduceKind::kMax, DType::kF32, x.data(), {3}, {true}, &m);
  EXPECT_TRUE(std::isnan(m));
  x86::reduce_f32(ref::ReduceKind::kMax, x.data(), {3}, {true}, &m);
  EXPECT_TRUE(std::isnan(m));
}

void expect_softmax_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * want[i] + 1e-9) << "i " << i;
}

TEST(SoftmaxX86, RowsMatchReference) {
  for (int64_t n : {1, 7, 16, 17, 100, 6625}) {
    const int64_t rows = 5;
    auto x = random_vec(rows * n, static_cast<unsigned>(n), -30.f, 30.f);
    std::vector<float> want(x.size()), got(x.size());
    ref::softmax_f32(x.data(), want.data(), rows, n, 1);
    x86::softmax_rows_f32(x.data(), got.data(), rows, n);
    expect_softmax_close(got, want);
    x86::softmax_rows_f32(x.data(), x.data(), rows, n);  // in place
    expect_softmax_close(x, want);
  }
}

TEST(SoftmaxX86, ColumnsMatchReference) {
  for (int64_t inner : {1, 5, 16, 37, 300}) {
    const int64_t n = 9;
    auto x = random_vec(n * inner, static_cast<unsigned>(inner), -10.f, 10.f);
    std::vector<float> want(x.size()), got(x.size(), -1.f);
    ref::softmax_f32(x.data(), want.data(), 1, n, inner);
    // Two column ranges, as two parallel chunks would do.
    const int64_t split = inner / 2;
    x86::softmax_cols_f32(x.data(), got.data(), n, inner, 0, split);
    x86::softmax_cols_f32(x.data(), got.data(), n, inner, split, inner);
    expect_softmax_close(got, want);
  }
}

}  // namespace
}  // namespace kaiwu::kernels
