#include "core/qmath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>
#include <vector>

namespace kaiwu::qmath {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

TEST(QMath, RoundHalfEven) {
  const float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4999998f, 2.5000002f, 0.f, -3.f, 8388607.5f, 1e20f};
  const float want[] = {0.f, 2.f, 2.f, -0.f, -2.f, -2.f, 2.f, 3.f, 0.f, -3.f, 8388608.f, 1e20f};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; ++i) EXPECT_EQ(round_half_even(in[i]), want[i]) << in[i];
  EXPECT_EQ(round_half_even(2.5), 2.0);
  EXPECT_EQ(round_half_even(-7.5), -8.0);
  EXPECT_TRUE(std::isnan(round_half_even(kNaN)));
  EXPECT_EQ(round_half_even(-kInf), -kInf);
}

TEST(QMath, SaturateCastFromFloat) {
  EXPECT_EQ(saturate_cast<int8_t>(126.5f), 126);
  EXPECT_EQ(saturate_cast<int8_t>(127.5f), 127);
  EXPECT_EQ(saturate_cast<int8_t>(-128.5f), -128);
  EXPECT_EQ(saturate_cast<int8_t>(-1000.f), -128);
  EXPECT_EQ(saturate_cast<int8_t>(-0.5f), 0);
  EXPECT_EQ(saturate_cast<uint8_t>(-0.7f), 0);
  EXPECT_EQ(saturate_cast<uint8_t>(254.5f), 254);
  EXPECT_EQ(saturate_cast<uint8_t>(255.49f), 255);
  EXPECT_EQ(saturate_cast<uint8_t>(1e9f), 255);
  EXPECT_EQ(saturate_cast<int16_t>(-32768.6f), -32768);
  EXPECT_EQ(saturate_cast<int16_t>(32766.5f), 32766);
  EXPECT_EQ(saturate_cast<int16_t>(40000.f), 32767);
  EXPECT_EQ(saturate_cast<uint16_t>(65535.4f), 65535);
  EXPECT_EQ(saturate_cast<uint16_t>(-3.f), 0);
  EXPECT_EQ(saturate_cast<int32_t>(3e9), 2147483647);
  EXPECT_EQ(saturate_cast<int32_t>(-3e9f), -2147483647 - 1);
  EXPECT_EQ(saturate_cast<int32_t>(2147483646.5), 2147483646);
  EXPECT_EQ(saturate_cast<int32_t>(-1234567.5), -1234568);
  // NaN gives 0, infinities the range ends.
  EXPECT_EQ(saturate_cast<int8_t>(kNaN), 0);
  EXPECT_EQ(saturate_cast<uint8_t>(kNaN), 0);
  EXPECT_EQ(saturate_cast<int32_t>(kNaN), 0);
  EXPECT_EQ(saturate_cast<uint8_t>(kInf), 255);
  EXPECT_EQ(saturate_cast<int16_t>(-kInf), -32768);
  EXPECT_EQ(saturate_cast<int32_t>(kInf), 2147483647);
}

TEST(QMath, SaturateCastFromInt) {
  EXPECT_EQ(saturate_cast<int8_t>(int64_t{200}), 127);
  EXPECT_EQ(saturate_cast<int8_t>(-200), -128);
  EXPECT_EQ(saturate_cast<uint8_t>(-1), 0);
  EXPECT_EQ(saturate_cast<uint8_t>(256), 255);
  EXPECT_EQ(saturate_cast<uint8_t>(77), 77);
  EXPECT_EQ(saturate_cast<int16_t>(int64_t{1} << 40), 32767);
  EXPECT_EQ(saturate_cast<uint16_t>(70000), 65535);
  EXPECT_EQ(saturate_cast<int32_t>(int64_t{1} << 33), 2147483647);
  EXPECT_EQ(saturate_cast<int32_t>(-(int64_t{1} << 33)), -2147483647 - 1);
}

TEST(QMath, Ranges) {
  EXPECT_EQ(qrange(QType::kInt8).qmin, -128);
  EXPECT_EQ(qrange(QType::kUInt8).qmax, 255);
  EXPECT_EQ(qrange(QType::kInt16).qmin, -32768);
  EXPECT_EQ(qrange(QType::kUInt16).qmax, 65535);
  EXPECT_EQ(qrange(QType::kInt32).qmax, 2147483647);
  EXPECT_STREQ(qtype_name(QType::kUInt8), "uint8");
}

TEST(QMath, ChooseQParamsAsymmetric) {
  QParams p;
  ASSERT_TRUE(choose_qparams(-1.f, 1.f, QType::kUInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 2.f / 255.f);
  // The zero point is rounded from the float scale actually used: 1 / float(2/255) = 127.4999..., so 127.
  EXPECT_EQ(p.zero_point, 127);
  ASSERT_TRUE(choose_qparams(-1.f, 1.f, QType::kInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_EQ(p.zero_point, -1);
  ASSERT_TRUE(choose_qparams(-1.f, 3.f, QType::kUInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_EQ(p.zero_point, 64);  // 255 / 4 = 63.75
  // A range not containing 0 is widened to contain it.
  ASSERT_TRUE(choose_qparams(1.f, 5.f, QType::kUInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 5.f / 255.f);
  EXPECT_EQ(p.zero_point, 0);
  ASSERT_TRUE(choose_qparams(1.f, 5.f, QType::kInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_EQ(p.zero_point, -128);
  ASSERT_TRUE(choose_qparams(-6.f, -2.f, QType::kUInt8, QScheme::kAsymmetric, &p).ok());
  EXPECT_EQ(p.zero_point, 255);
  ASSERT_TRUE(choose_qparams(-3.f, 1.f, QType::kInt16, QScheme::kAsymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 4.f / 65535.f);
  EXPECT_EQ(quantize_value(0.f, p.scale, p.zero_point, qrange(QType::kInt16)), p.zero_point);
}

TEST(QMath, ChooseQParamsSymmetric) {
  QParams p;
  ASSERT_TRUE(choose_qparams(-2.f, 1.f, QType::kInt8, QScheme::kSymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 2.f / 127.f);
  EXPECT_EQ(p.zero_point, 0);
  ASSERT_TRUE(choose_qparams(0.f, 3.f, QType::kUInt8, QScheme::kSymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 3.f / 127.f);
  EXPECT_EQ(p.zero_point, 128);
  EXPECT_EQ(quantize_value(3.f, p.scale, p.zero_point, qrange(QType::kUInt8)), 255);
  EXPECT_EQ(quantize_value(-3.f, p.scale, p.zero_point, qrange(QType::kUInt8)), 1);
  ASSERT_TRUE(choose_qparams(-1.f, 0.5f, QType::kInt16, QScheme::kSymmetric, &p).ok());
  EXPECT_FLOAT_EQ(p.scale, 1.f / 32767.f);
  EXPECT_EQ(p.zero_point, 0);
  ASSERT_TRUE(choose_qparams(-1.f, 0.5f, QType::kUInt16, QScheme::kSymmetric, &p).ok());
  EXPECT_EQ(p.zero_point, 32768);
}

TEST(QMath, ChooseQParamsGuards) {
  QParams p;
  for (QScheme s : {QScheme::kAsymmetric, QScheme::kSymmetric}) {
    Status st = choose_qparams(kNaN, 1.f, QType::kInt8, s, &p);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("not finite"), std::string::npos) << st.message();
    EXPECT_FALSE(choose_qparams(0.f, kInf, QType::kUInt8, s, &p).ok());
    EXPECT_FALSE(choose_qparams(-kInf, 0.f, QType::kUInt8, s, &p).ok());
    st = choose_qparams(2.f, 1.f, QType::kUInt8, s, &p);
    EXPECT_NE(st.message().find("min > max"), std::string::npos) << st.message();
    EXPECT_FALSE(choose_qparams(0.f, 1.f, QType::kInt32, s, &p).ok());
    // A zero range: documented scale 1, the zero point maps back to 0 exactly.
    for (QType t : {QType::kInt8, QType::kUInt8, QType::kInt16, QType::kUInt16}) {
      ASSERT_TRUE(choose_qparams(0.f, 0.f, t, s, &p).ok());
      EXPECT_EQ(p.scale, 1.f);
      EXPECT_TRUE(validate_qparams(p, t).ok());
      EXPECT_EQ(dequantize_value(quantize_value(0.f, p.scale, p.zero_point, qrange(t)), p.scale, p.zero_point), 0.f);
    }
    // Underflowing ranges get the smallest normal scale, never 0 or a denormal.
    ASSERT_TRUE(choose_qparams(0.f, 1e-44f, QType::kUInt8, s, &p).ok());
    EXPECT_EQ(p.scale, kMinScale);
    ASSERT_TRUE(choose_qparams(-1e-45f, 1e-45f, QType::kInt8, s, &p).ok());
    EXPECT_EQ(p.scale, kMinScale);
    // Huge ranges stay finite.
    ASSERT_TRUE(choose_qparams(-3e38f, 3e38f, QType::kUInt8, s, &p).ok());
    EXPECT_TRUE(std::isfinite(p.scale));
    EXPECT_TRUE(validate_qparams(p, QType::kUInt8).ok());
  }
  EXPECT_FALSE(validate_qparams({0.f, 0}, QType::kInt8).ok());
  EXPECT_FALSE(validate_qparams({kInf, 0}, QType::kInt8).ok());
  EXPECT_FALSE(validate_qparams({kNaN, 0}, QType::kInt8).ok());
  EXPECT_FALSE(validate_qparams({1.f, 128}, QType::kInt8).ok());
  EXPECT_FALSE(validate_qparams({1.f, -1}, QType::kUInt8).ok());
  EXPECT_TRUE(validate_qparams({0.5f, 255}, QType::kUInt8).ok());
}

// Random ranges: parameters are valid, 0 is exact, and in-range values round-trip within half a step.
TEST(QMath, ChooseQParamsRoundTrip) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> expo(-20.f, 20.f), frac(-1.f, 1.f);
  for (int it = 0; it < 400; ++it) {
    float a = frac(rng) * std::exp2(expo(rng)), b = frac(rng) * std::exp2(expo(rng));
    float lo = std::min(a, b), hi = std::max(a, b);
    for (QType t : {QType::kInt8, QType::kUInt8, QType::kInt16}) {
      for (QScheme s : {QScheme::kAsymmetric, QScheme::kSymmetric}) {
        QParams p;
        ASSERT_TRUE(choose_qparams(lo, hi, t, s, &p).ok());
        ASSERT_TRUE(validate_qparams(p, t).ok()) << lo << " " << hi;
        QRange r = qrange(t);
        EXPECT_EQ(dequantize_value(quantize_value(0.f, p.scale, p.zero_point, r), p.scale, p.zero_point), 0.f);
        for (int k = 0; k <= 16; ++k) {
          float x = lo + (hi - lo) * k / 16.f;
          float back = dequantize_value(quantize_value(x, p.scale, p.zero_point, r), p.scale, p.zero_point);
          EXPECT_LE(std::fabs(back - x), p.scale * 0.51f) << lo << " " << hi << " x=" << x;
        }
      }
    }
  }
}

TEST(QMath, QuantizeValue) {
  // The ONNX QuantizeLinear example: scale 2, zero point 128.
  const float x[] = {0.f, 2.f, 3.f, 1000.f, -254.f, -1000.f};
  const int32_t want[] = {128, 129, 130, 255, 1, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(quantize_value(x[i], 2.f, 128, qrange(QType::kUInt8)), want[i]);
  EXPECT_EQ(quantize_value(kNaN, 0.5f, 3, qrange(QType::kInt8)), 3);
  EXPECT_EQ(quantize_value(kInf, 0.5f, 3, qrange(QType::kInt8)), 127);
  EXPECT_EQ(quantize_value(-kInf, 0.5f, 3, qrange(QType::kUInt8)), 0);
  EXPECT_EQ(quantize_value(1.f, 0.f, 0, qrange(QType::kInt8)), 127);  // x / 0 = inf saturates
  EXPECT_EQ(quantize_value(-2.5f, 1.f, 0, qrange(QType::kInt8)), -2);
  EXPECT_EQ(quantize_value(1e10f, 1.f, 5, qrange(QType::kInt32)), 2147483647);
  EXPECT_FLOAT_EQ(dequantize_value(0, 2.f, 128), -256.f);
  EXPECT_FLOAT_EQ(dequantize_value(-128, 0.5f, -128), 0.f);
  EXPECT_FLOAT_EQ(dequantize_value(2147483647, 1.f, 0), 2147483648.f);
}

TEST(QMath, QuantizeArrays) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  std::vector<float> x(2 * 3 * 5);
  for (float& v : x) v = d(rng);
  std::vector<uint8_t> q(x.size());
  quantize_array<uint8_t>(x.data(), q.data(), x.size(), 0.02f, 100);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(q[i], quantize_value(x[i], 0.02f, 100, qrange(QType::kUInt8)));
  std::vector<float> y(x.size());
  dequantize_array<uint8_t>(q.data(), y.data(), q.size(), 0.02f, 100);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_FLOAT_EQ(y[i], (q[i] - 100) * 0.02f);

  const float scales[3] = {0.01f, 0.1f, 1.f};
  const int32_t zps[3] = {-5, 0, 7};
  std::vector<int8_t> qa(x.size());
  quantize_per_axis<int8_t>(x.data(), qa.data(), 2, 3, 5, scales, zps);
  dequantize_per_axis<int8_t>(qa.data(), y.data(), 2, 3, 5, scales, zps);
  for (int o = 0; o < 2; ++o)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 5; ++i) {
        size_t k = (o * 3 + c) * 5 + i;
        ASSERT_EQ(qa[k], quantize_value(x[k], scales[c], zps[c], qrange(QType::kInt8)));
        ASSERT_EQ(y[k], dequantize_value(qa[k], scales[c], zps[c]));
      }
  std::vector<int16_t> q16(x.size());
  quantize_per_axis<int16_t>(x.data(), q16.data(), 2, 3, 5, scales, nullptr);
  EXPECT_EQ(q16[5], quantize_value(x[5], 0.1f, 0, qrange(QType::kInt16)));
  std::vector<int32_t> q32 = {-7, 0, 2147483647};
  dequantize_array<int32_t>(q32.data(), y.data(), 3, 0.5f, 0);
  EXPECT_EQ(y[0], -3.5f);
  EXPECT_EQ(y[2], 1073741824.f);
}

// ---- Fixed point ----

// round_half_even(x * real) computed exactly with 128-bit integers (real is a double: mant * 2^e exactly).
// tie_dist: the distance of x * real from the nearest tie n + 1/2 (0.5 when x * real is an integer).
int64_t exact_round(int64_t x, double real, double* tie_dist = nullptr) {
  if (tie_dist) *tie_dist = 0.5;
  int e = 0;
  double f = std::frexp(real, &e);
  __int128 mant = static_cast<__int128>(std::ldexp(f, 53));  // real = mant * 2^(e - 53)
  __int128 p = static_cast<__int128>(x) * mant;
  int sh = 53 - e;
  if (sh <= 0) return static_cast<int64_t>(p << -sh);
  bool neg = p < 0;
  __int128 a = neg ? -p : p;
  __int128 q = a >> sh, rem = a - (q << sh), half = static_cast<__int128>(1) << (sh - 1);
  if (tie_dist) *tie_dist = std::ldexp(static_cast<double>(rem > half ? rem - half : half - rem), -sh);
  if (rem > half || (rem == half && (q & 1))) ++q;
  return static_cast<int64_t>(neg ? -q : q);
}

TEST(QMath, QuantizeMultiplier) {
  FixedMultiplier m;
  ASSERT_TRUE(quantize_multiplier(0.5, &m).ok());
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 0);
  ASSERT_TRUE(quantize_multiplier(1.0, &m).ok());
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  ASSERT_TRUE(quantize_multiplier(0.75, &m).ok());
  EXPECT_EQ(m.multiplier, 3 << 29);
  // Just below 1: the mantissa rounds up to 2^31 and renormalizes.
  ASSERT_TRUE(quantize_multiplier(1.0 - 1e-12, &m).ok());
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  for (double bad : {0.0, -0.5, std::nan(""), HUGE_VAL, 2147483648.0, 1e300}) {
    Status st = quantize_multiplier(bad, &m);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
  }
  ASSERT_TRUE(quantize_multiplier(1e-12, &m).ok());  // < 2^-32: everything rounds to 0
  EXPECT_EQ(m.multiplier, 0);
  EXPECT_EQ(multiply_by_fixed(2147483647, m), 0);
  // Sweep: multiplier in [2^30, 2^31), shift in [-31, 31], relative error <= 2^-31.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> ex(-32.0, 30.99);
  for (int it = 0; it < 20000; ++it) {
    double real = std::exp2(ex(rng));
    ASSERT_TRUE(quantize_multiplier(real, &m).ok()) << real;
    ASSERT_GE(m.multiplier, 1 << 30);
    ASSERT_GE(m.shift, -31);
    ASSERT_LE(m.shift, 31);
    double rep = std::ldexp(static_cast<double>(m.multiplier), m.shift - 31);
    ASSERT_LE(std::fabs(rep - real) / real, std::ldexp(1.0, -31)) << real;
  }
}

TEST(QMath, SaturatingRoundingDoublingHighMul) {
  const int32_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1), 1);    // 0.5 rounds away from zero
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-(1 << 30), 1), -1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -2);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(100, 1 << 30), 50);
  // Against exact real maths: |a*b/2^31 - r| <= 0.5, ties away from zero.
  std::mt19937 rng(5);
  std::vector<int32_t> vals = {0, 1, -1, 2, -2, kMax, kMin, kMin + 1, 1 << 30, -(1 << 30), 12345, -98765};
  for (int i = 0; i < 300; ++i) vals.push_back(static_cast<int32_t>(rng()));
  for (int i = 0; i < 100; ++i) vals.push_back(static_cast<int32_t>(rng() % 2001) - 1000);
  for (int32_t a : vals)
    for (int32_t b : vals) {
      if (a == kMin && b == kMin) continue;
      int32_t r = saturating_rounding_doubling_high_mul(a, b);
      __int128 twice = static_cast<__int128>(a) * b * 2 - static_cast<__int128>(r) * (int64_t{1} << 32);
      // |2ab - r*2^32| <= 2^31, and == only when the tie was resolved away from zero.
      ASSERT_LE(twice < 0 ? -twice : twice, static_cast<__int128>(1) << 31) << a << " " << b;
      if (twice == (static_cast<__int128>(1) << 31)) {
        ASSERT_LT(static_cast<int64_t>(a) * b, 0);
      }
      if (twice == -(static_cast<__int128>(1) << 31)) {
        ASSERT_GT(static_cast<int64_t>(a) * b, 0);
      }
    }
}

TEST(QMath, RoundingDivideByPot) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(123, 0), 123);
  EXPECT_EQ(rounding_divide_by_pot(std::numeric_limits<int32_t>::min(), 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(std::numeric_limits<int32_t>::max(), 31), 1);
  std::mt19937 rng(9);
  for (int e = 0; e <= 31; ++e)
    for (int i = 0; i < 3000; ++i) {
      int32_t x = i < 40 ? (i - 20) * (e > 0 ? (1 << (e - 1)) : 1) : static_cast<int32_t>(rng());
      double exact = std::ldexp(static_cast<double>(x), -e);  // exact in double
      double want = std::trunc(exact + (exact >= 0 ? 0.5 : -0.5));  // ties away from zero
      if (std::fabs(exact - std::trunc(exact)) != 0.5) want = std::round(exact);
      ASSERT_EQ(rounding_divide_by_pot(x, e), static_cast<int64_t>(want)) << x << " >> " << e;
    }
}

// The full requantization against exact maths: at most 1 LSB from round_half_even(x * real) for |x * real| < 2^30.
TEST(QMath, MultiplyByFixedWithinOneLsb) {
  std::mt19937_64 rng(21);
  std::vector<double> reals = {0.5, 0.25, 1.0, 0.999999, 1.5, 3.0, 1e-3, 2.2e-4, 0.0078125, 7.3e-6, 42.0, 1e-9};
  std::uniform_real_distribution<double> ex(-31.0, 12.0);
  for (int i = 0; i < 300; ++i) reals.push_back(std::exp2(ex(rng)));
  int64_t total = 0, off_by_one = 0, exact_total = 0;
  for (double real : reals) {
    FixedMultiplier m;
    ASSERT_TRUE(quantize_multiplier(real, &m).ok());
    const double lim = std::ldexp(1.0, 30) / real;  // keep |x * real| < 2^30
    std::vector<int64_t> xs = {0, 1, -1, 2, -2, 3, -3, 127, -128, 255, 32767, -32768};
    for (int k = 0; k < 31; ++k) xs.insert(xs.end(), {int64_t{1} << k, -(int64_t{1} << k), (int64_t{1} << k) + 1});
    std::uniform_int_distribution<int64_t> big(-2147483648LL, 2147483647LL), small(-100000, 100000);
    for (int k = 0; k < 700; ++k) xs.push_back(k % 2 ? big(rng) : small(rng));
    // Inputs whose exact product is a tie (x * real = n + 0.5), where rounding differences show.
    for (int k = 1; k < 60; ++k) xs.push_back(static_cast<int64_t>(std::llround((k + 0.5) / real)));
    for (int64_t x : xs) {
      if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) continue;
      if (std::fabs(static_cast<double>(x)) >= lim) continue;
      int64_t got = multiply_by_fixed(static_cast<int32_t>(x), m);
      double tie_dist = 0;
      int64_t want = exact_round(x, real, &tie_dist);
      ASSERT_LE(std::llabs(got - want), 1) << "x=" << x << " real=" << real;
      ++total;
      if (got != want) ++off_by_one;
      // Away from ties the result is exact: the only error sources are the intermediate rounding (half a unit
      // of 2^shift for shift < 0) and the multiplier's 2^-31 relative error.
      double window = (m.shift < 0 ? std::ldexp(1.0, m.shift - 1) : 0.0) + std::fabs(x * real) * std::ldexp(1.0, -31);
      if (tie_dist > window) {
        ++exact_total;
        ASSERT_EQ(got, want) << "x=" << x << " real=" << real;
      }
    }
  }
  EXPECT_GT(total, 100000);
  EXPECT_GT(exact_total, total * 8 / 10);
  std::cout << "[qmath] multiply_by_fixed: " << off_by_one << " of " << total
            << " results off by 1 (all near ties); " << exact_total << " away from ties, all exact\n";
}

TEST(QMath, MultiplyByFixedSaturatesLeftShift) {
  FixedMultiplier m;
  ASSERT_TRUE(quantize_multiplier(4.0, &m).ok());
  EXPECT_EQ(m.shift, 3);
  EXPECT_EQ(multiply_by_fixed(1000, m), 4000);
  EXPECT_EQ(multiply_by_fixed(-1000, m), -4000);
  EXPECT_EQ(multiply_by_fixed(std::numeric_limits<int32_t>::max(), m), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(multiply_by_fixed(std::numeric_limits<int32_t>::min(), m), std::numeric_limits<int32_t>::min());
  ASSERT_TRUE(quantize_multiplier(0.5, &m).ok());
  EXPECT_EQ(multiply_by_fixed(std::numeric_limits<int32_t>::min(), m), -(1 << 30));
  EXPECT_EQ(multiply_by_fixed(3, m), 2);  // 1.5 rounds away from zero
}

}  // namespace
}  // namespace kaiwu::qmath
