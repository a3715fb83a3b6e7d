// Streaming observers: exact min/max, per-channel, and histograms independent of the batch split and order.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "calib/observer.h"

namespace kaiwu::calib {
namespace {

// Batches with magnitudes that grow and shrink, so the histogram range must grow several times.
std::vector<float> mixed_data(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) {
    float scale = (i / 97) % 3 == 0 ? 0.01f : ((i / 97) % 3 == 1 ? 1.f : 40.f);
    v[i] = g(rng) * scale;
    if (i % 50 == 0) v[i] = 0.f;
  }
  return v;
}

Tensor view(std::vector<float>& v, int64_t off, int64_t n) {
  return Tensor::view(DType::kF32, {n}, v.data() + off);
}

TEST(CalibObserver, MinMaxStreamingEqualsAllAtOnce) {
  std::vector<float> v = mixed_data(1000, 1);
  MinMaxObserver all, stream;
  ASSERT_TRUE(all.update(view(v, 0, 1000)).ok());
  for (int off = 0; off < 1000; off += 123) ASSERT_TRUE(stream.update(view(v, off, std::min(123, 1000 - off))).ok());
  float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  EXPECT_EQ(all.min(), lo);
  EXPECT_EQ(all.max(), hi);
  EXPECT_EQ(stream.min(), lo);
  EXPECT_EQ(stream.max(), hi);
  EXPECT_EQ(stream.count(), 1000);
}

TEST(CalibObserver, MinMaxPerChannel) {
  // [2, 3, 2]: channel c holds values c*10 + {-1, +1} in batch 0 and c*10 + {-2, 0} in batch 1.
  std::vector<float> v = {-1, 1, 9, 11, 19, 21, -2, 0, 8, 10, 18, 20};
  Tensor t = Tensor::view(DType::kF32, {2, 3, 2}, v.data());
  MinMaxObserver o(1);
  ASSERT_TRUE(o.update(t).ok());
  ASSERT_EQ(o.channel_min().size(), 3u);
  EXPECT_EQ(o.channel_min()[0], -2.f);
  EXPECT_EQ(o.channel_max()[0], 1.f);
  EXPECT_EQ(o.channel_min()[2], 18.f);
  EXPECT_EQ(o.channel_max()[2], 21.f);
  EXPECT_EQ(o.min(), -2.f);
  EXPECT_EQ(o.max(), 21.f);
  std::vector<float> w(8, 0.f);
  EXPECT_FALSE(o.update(Tensor::view(DType::kF32, {2, 4}, w.data())).ok());  // 4 channels now
  EXPECT_FALSE(MinMaxObserver(3).update(t).ok());                             // rank too small
}

TEST(CalibObserver, HistogramIsIndependentOfBatchSplitAndOrder) {
  const int n = 3000;
  std::vector<float> v = mixed_data(n, 2);
  HistogramObserver all(256);
  ASSERT_TRUE(all.update(view(v, 0, n)).ok());
  for (int batch : {1, 7, 97, 1000}) {
    HistogramObserver s(256);
    for (int off = 0; off < n; off += batch) ASSERT_TRUE(s.update(view(v, off, std::min(batch, n - off))).ok());
    EXPECT_EQ(s.exponent(), all.exponent());
    EXPECT_EQ(s.bins(), all.bins()) << "batch " << batch;
    EXPECT_EQ(s.zero_count(), all.zero_count());
    EXPECT_EQ(s.min(), all.min());
    EXPECT_EQ(s.max(), all.max());
  }
  // Reverse order, and merging two partial observers.
  HistogramObserver rev(256), a(256), b(256);
  for (int off = n - 100; off >= 0; off -= 100) ASSERT_TRUE(rev.update(view(v, off, 100)).ok());
  ASSERT_TRUE(a.update(view(v, 0, 291)).ok());        // small magnitudes first
  ASSERT_TRUE(b.update(view(v, 291, n - 291)).ok());
  ASSERT_TRUE(a.merge(b).ok());
  EXPECT_EQ(rev.bins(), all.bins());
  EXPECT_EQ(a.bins(), all.bins());
  EXPECT_EQ(a.exponent(), all.exponent());
  uint64_t total = 0;
  for (uint64_t c : all.bins()) total += c;
  EXPECT_EQ(total + all.zero_count(), static_cast<uint64_t>(n));
}

TEST(CalibObserver, HistogramRangeIsTheNextPowerOfTwo) {
  std::vector<float> v = {0.5f, -3.f, 2.f, 0.f};
  HistogramObserver h(8);
  ASSERT_TRUE(h.update(view(v, 0, 4)).ok());
  EXPECT_EQ(h.exponent(), 2);  // 3 < 4 = 2^2
  EXPECT_DOUBLE_EQ(h.range(), 4.0);
  EXPECT_DOUBLE_EQ(h.bin_width(), 0.5);
  // Signed bins of width 0.5 over [-4, 4): -3 -> bin 2, 0.5 -> bin 9, 2 -> bin 12.
  EXPECT_EQ(h.bins()[2], 1u);
  EXPECT_EQ(h.bins()[9], 1u);
  EXPECT_EQ(h.bins()[12], 1u);
  EXPECT_EQ(h.zero_count(), 1u);
  std::vector<double> a = h.abs_histogram();
  EXPECT_EQ(a[0], 1.0);  // the zero
  EXPECT_EQ(a[1], 1.0);  // 0.5
  EXPECT_EQ(a[4], 1.0);  // 2
  EXPECT_EQ(a[5], 1.0);  // |-3| in (2.5, 3]
  // Exactly 4 needs a bigger range: R doubles and pairs merge.
  std::vector<float> w = {4.f};
  ASSERT_TRUE(h.update(view(w, 0, 1)).ok());
  EXPECT_EQ(h.exponent(), 3);
  EXPECT_EQ(h.bins()[8 + 4], 1u);  // 4 / 1.0 = bin 4 above zero
}

TEST(CalibObserver, NanAndInfAreCountedNotBinned) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {nan, 1.f, -inf, inf, -2.f};
  HistogramObserver h;
  MinMaxObserver m;
  ASSERT_TRUE(h.update(view(v, 0, 5)).ok());
  ASSERT_TRUE(m.update(view(v, 0, 5)).ok());
  EXPECT_EQ(h.nan_count(), 1);
  EXPECT_EQ(h.inf_count(), 2);
  EXPECT_EQ(h.finite_count(), 2u);
  EXPECT_EQ(h.min(), -2.f);
  EXPECT_EQ(h.max(), 1.f);
  EXPECT_EQ(m.min(), -2.f);
  EXPECT_EQ(m.max(), 1.f);
  EXPECT_EQ(m.nan_count(), 1);
}

TEST(CalibObserver, NonFloatTensorsAreConverted) {
  Tensor t = Tensor::from_vector<int32_t>({-5, 0, 9});
  MinMaxObserver m;
  HistogramObserver h;
  ASSERT_TRUE(m.update(t).ok());
  ASSERT_TRUE(h.update(t).ok());
  EXPECT_EQ(m.min(), -5.f);
  EXPECT_EQ(m.max(), 9.f);
  EXPECT_EQ(h.exponent(), 4);
  EXPECT_FALSE(m.update(Tensor::from_vector<bool>({true})).ok());
}

}  // namespace
}  // namespace kaiwu::calib
