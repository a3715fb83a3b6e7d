// Range selectors on known distributions, and safe ranges for degenerate statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "calib/range_select.h"

namespace kaiwu::calib {
namespace {

HistogramObserver observe(const std::vector<float>& v) {
  HistogramObserver h;
  EXPECT_TRUE(h.update(v.data(), static_cast<int64_t>(v.size())).ok());
  return h;
}

// 100k N(0, 1) samples plus 10 outliers at +-50.
std::vector<float> gaussian_with_outliers() {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(100000);
  for (auto& x : v) x = g(rng);
  for (int i = 0; i < 10; ++i) v[i * 1000] = i % 2 ? 50.f : -50.f;
  return v;
}

std::vector<float> uniform(float lo, float hi, int n) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(CalibRange, MaxKeepsOutliersPercentileKlAndMseClipThem) {
  HistogramObserver h = observe(gaussian_with_outliers());
  TensorRange mx = select_max(h);
  EXPECT_EQ(mx.min, -50.f);
  EXPECT_EQ(mx.max, 50.f);
  EXPECT_EQ(mx.threshold, 50.f);
  TensorRange p = select_percentile(h, 0.9999);
  EXPECT_GT(p.max, 3.0f);
  EXPECT_LT(p.max, 5.0f);
  EXPECT_LT(p.min, -3.0f);
  EXPECT_GT(p.min, -5.0f);
  TensorRange kl = select_kl(h);
  EXPECT_GT(kl.threshold, 2.0f);
  EXPECT_LT(kl.threshold, 8.0f);
  EXPECT_EQ(kl.max, kl.threshold);
  EXPECT_EQ(kl.min, -kl.threshold);
  // MSE: 10 outliers among 100k cost more clipped (46^2 each) than the coarser rounding of a wide range.
  TensorRange mse = select_mse(h, qmath::QType::kInt8);
  EXPECT_GT(mse.threshold, 4.0f);
  EXPECT_LE(mse.threshold, 50.0f);
  TensorRange mp = select_max(h, 0.9999);
  EXPECT_GT(mp.threshold, 3.0f);
  EXPECT_LT(mp.threshold, 5.0f);
  EXPECT_EQ(mp.method, "max_percentile=0.9999");
  // int16 has 256x finer steps: the MSE threshold moves out (clipping costs more than rounding).
  TensorRange mse16 = select_mse(h, qmath::QType::kInt16);
  EXPECT_GE(mse16.threshold, mse.threshold);
}

// The real quantization error of data x quantized symmetrically to int8 with threshold t.
double quant_mse(const std::vector<float>& x, double t) {
  double s = t / 127.0, e = 0;
  for (float v : x) {
    double q = std::nearbyint(v / s);
    q = std::min(127.0, std::max(-127.0, q));
    e += (q * s - v) * (q * s - v);
  }
  return e / x.size();
}

TEST(CalibRange, MseMinimisesTheRealQuantizationErrorOfHeavyTails) {
  // Laplace-like data (exponential magnitudes with random signs): heavy tails, where clipping pays off.
  std::mt19937 rng(11);
  std::exponential_distribution<float> ex(1.f);
  std::vector<float> v(50000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 2 ? 1.f : -1.f) * ex(rng);
  HistogramObserver h = observe(v);
  TensorRange mse = select_mse(h, qmath::QType::kInt8);
  const double amax = select_max(h).threshold;
  EXPECT_LT(mse.threshold, 0.9 * amax);  // clips the tail
  double best_grid = INFINITY;
  for (int k = 1; k <= 60; ++k) best_grid = std::min(best_grid, quant_mse(v, amax * k / 60.0));
  EXPECT_LE(quant_mse(v, mse.threshold), 1.05 * best_grid);
  EXPECT_LT(quant_mse(v, mse.threshold), quant_mse(v, amax));
}

// Straightforward O(m^2) entropy calibration, the reference for select_kl's prefix-sum form.
double brute_kl_threshold(const HistogramObserver& h, int levels) {
  std::vector<double> a = h.abs_histogram();
  a[0] -= h.zero_count();
  size_t m = a.size();
  while (m > 0 && a[m - 1] == 0) --m;
  double best = INFINITY;
  size_t best_i = m;
  for (size_t i = levels; i <= m; ++i) {
    std::vector<double> p(a.begin(), a.begin() + i), q(i, 0.0);
    for (size_t j = i; j < m; ++j) p[i - 1] += a[j];
    for (int c = 0; c < levels; ++c) {
      size_t lo = c * i / levels, hi = (c + 1) * i / levels;
      double sum = 0, nz = 0;
      for (size_t j = lo; j < hi; ++j) sum += a[j], nz += a[j] != 0;
      for (size_t j = lo; j < hi; ++j) q[j] = a[j] != 0 ? sum / nz : 0;
    }
    double pt = 0, qt = 0, kl = 0;
    for (size_t j = 0; j < i; ++j) pt += p[j], qt += q[j];
    for (size_t j = 0; j < i; ++j) {
      if (p[j] == 0) continue;
      double pj = p[j] / pt, qj = q[j] > 0 ? q[j] / qt : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl < best) best = kl, best_i = i;
  }
  return std::min<double>(best_i * h.bin_width(), select_max(h).threshold);
}

TEST(CalibRange, KlMatchesTheStraightforwardDefinition) {
  std::mt19937 rng(5);
  std::exponential_distribution<float> ex(2.f);
  std::vector<float> heavy(20000);
  for (size_t i = 0; i < heavy.size(); ++i) heavy[i] = (i % 3 ? 1.f : -1.f) * ex(rng);
  std::vector<float> relu = uniform(-1.f, 3.f, 20000);
  for (auto& x : relu) x = std::max(x, 0.f);
  for (const auto& v : {gaussian_with_outliers(), heavy, relu, uniform(-2.f, 2.f, 5000)}) {
    HistogramObserver h(1024);
    ASSERT_TRUE(h.update(v.data(), static_cast<int64_t>(v.size())).ok());
    double ref = brute_kl_threshold(h, 128);
    EXPECT_NEAR(select_kl(h, 128).threshold, ref, 1.01 * h.bin_width());
  }
}

TEST(CalibRange, KlIgnoresExactZeros) {
  std::mt19937 rng(21);
  std::normal_distribution<float> g(0.f, 3.f);
  std::vector<float> pos(30000);
  for (auto& x : pos) x = std::fabs(g(rng));
  std::vector<float> with_zeros = pos;
  with_zeros.resize(60000, 0.f);  // half the values are ReLU zeros
  HistogramObserver a = observe(pos), b = observe(with_zeros);
  EXPECT_EQ(select_kl(a).threshold, select_kl(b).threshold);
  EXPECT_GT(select_kl(b).threshold, 0.6f * select_max(b).threshold);
}

TEST(CalibRange, UniformDataKeepsNearlyTheFullRange) {
  HistogramObserver h = observe(uniform(-1.f, 1.f, 50000));
  EXPECT_NEAR(select_max(h).threshold, 1.f, 1e-3);
  EXPECT_NEAR(select_percentile(h, 0.99999).max, 1.f, 2e-3);
  EXPECT_GT(select_kl(h).threshold, 0.85f);
  EXPECT_LE(select_kl(h).threshold, 1.f);
  EXPECT_GT(select_mse(h).threshold, 0.9f);
  EXPECT_LE(select_mse(h).threshold, 1.f);
}

TEST(CalibRange, OneSidedDataGivesAOneSidedPercentileRange) {
  std::vector<float> v = uniform(0.f, 6.f, 20000);
  for (int i = 0; i < 2000; ++i) v[i] = 0.f;  // ReLU zeros
  HistogramObserver h = observe(v);
  TensorRange p = select_percentile(h, 0.999);
  EXPECT_EQ(p.min, 0.f);
  EXPECT_GT(p.max, 5.9f);
  EXPECT_LE(p.max, 6.f);
}

TEST(CalibRange, DegenerateStatisticsGiveFiniteNonZeroScales) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> cases = {{}, std::vector<float>(100, 0.f), {nan, nan}, std::vector<float>(50, 5.f),
                                           {1e-40f, -1e-40f}};
  for (size_t c = 0; c < cases.size(); ++c) {
    HistogramObserver h = observe(cases[c]);
    MinMaxObserver mm;
    std::vector<float> v = cases[c];
    ASSERT_TRUE(mm.update(Tensor::view(DType::kF32, {static_cast<int64_t>(v.size())}, v.data())).ok());
    std::vector<TensorRange> ranges = {select_max(mm), select_max(h), select_max(h, 0.99),
                                       select_percentile(h, 0.999), select_kl(h), select_mse(h)};
    for (const TensorRange& r : ranges) {
      EXPECT_TRUE(std::isfinite(r.min) && std::isfinite(r.max) && std::isfinite(r.threshold)) << c << r.method;
      EXPECT_LE(r.min, r.max);
      for (auto scheme : {qmath::QScheme::kSymmetric, qmath::QScheme::kAsymmetric}) {
        qmath::QParams q;
        ASSERT_TRUE(range_qparams(r, qmath::QType::kInt8, scheme, &q).ok()) << c << r.method;
        EXPECT_TRUE(std::isfinite(q.scale)) << c << r.method;
        EXPECT_GT(q.scale, 0.f) << c << r.method;
      }
    }
    if (c <= 2) {  // empty, zeros, NaN: the documented zero range, scale 1
      EXPECT_EQ(ranges[1].threshold, 0.f);
      qmath::QParams q;
      ASSERT_TRUE(range_qparams(ranges[4], qmath::QType::kInt8, qmath::QScheme::kSymmetric, &q).ok());
      EXPECT_EQ(q.scale, 1.f);
    }
    if (c == 3) {  // a single value: exactly that value for every method
      for (const TensorRange& r : ranges) {
        EXPECT_EQ(r.min, 5.f) << r.method;
        EXPECT_EQ(r.max, 5.f) << r.method;
      }
    }
  }
}

TEST(CalibRange, SelectRangeDispatchesAndValidates) {
  HistogramObserver h = observe(gaussian_with_outliers());
  MinMaxObserver mm;
  std::vector<float> v = {-1.f, 2.f};
  ASSERT_TRUE(mm.update(Tensor::view(DType::kF32, {2}, v.data())).ok());
  SelectOptions o;
  TensorRange r;
  ASSERT_TRUE(select_range(nullptr, &mm, o, &r).ok());
  EXPECT_EQ(r.max, 2.f);
  o.method = RangeMethod::kKl;
  EXPECT_FALSE(select_range(nullptr, &mm, o, &r).ok());
  ASSERT_TRUE(select_range(&h, &mm, o, &r).ok());
  EXPECT_EQ(r.method, "kl");
  o.method = RangeMethod::kPercentile;
  o.percentile = 1.5;
  EXPECT_FALSE(select_range(&h, &mm, o, &r).ok());
  o.method = RangeMethod::kMax;
  o.max_percentile = 0.0;
  EXPECT_FALSE(select_range(&h, &mm, o, &r).ok());
  RangeMethod m;
  EXPECT_TRUE(parse_range_method("mse", &m));
  EXPECT_EQ(m, RangeMethod::kMse);
  EXPECT_FALSE(parse_range_method("default", &m));
}

}  // namespace
}  // namespace kaiwu::calib
