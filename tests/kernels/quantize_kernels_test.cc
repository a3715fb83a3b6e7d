// Differential tests: AVX-512 QuantizeLinear / DequantizeLinear / requantization against the scalar reference
// (bit-exact), over odd sizes, tails, arbitrary range splits, per-axis layouts and special values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/qmath.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/quantize.h"

namespace kaiwu::kernels {
namespace {

const DType kQTypes[] = {DType::kU8, DType::kI8, DType::kU16, DType::kI16};
const int64_t kSizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 100, 1031};

std::vector<float> special_floats(int64_t n, float scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-300.f, 300.f);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), -0.f, 0.f, 1e30f, -1e30f, 3e9f, -3e9f,
                            std::numeric_limits<float>::denorm_min()};
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (rng() % 6) {
      case 0: x[i] = specials[rng() % 10]; break;
      case 1: x[i] = (static_cast<int>(rng() % 200) - 100 + 0.5f) * scale; break;  // ties
      default: x[i] = d(rng) * scale;
    }
  }
  return x;
}

// Runs fn(begin, end) over [0, n) in uneven pieces, as a parallel split might.
template <typename F>
void split_run(int64_t n, F&& fn) {
  int64_t cuts[] = {0, n / 3, n / 3 + 1, (2 * n) / 3 + 5, n};
  for (int i = 0; i + 1 < 5; ++i) {
    int64_t b = std::min(cuts[i], n), e = std::min(std::max(cuts[i + 1], b), n);
    if (i == 3) e = n;
    fn(b, e);
  }
}

TEST(QuantizeKernels, QuantizeMatchesReferencePerTensor) {
  for (DType yt : kQTypes)
    for (int64_t n : kSizes)
      for (float scale : {0.02f, 1.f, 3.7f}) {
        std::vector<float> x = special_floats(n, scale, static_cast<unsigned>(n * 7 + 1));
        const size_t bytes = n * dtype_size(yt);
        std::vector<uint8_t> a(bytes + 1, 0xAB), b(bytes + 1, 0xAB);
        ref::QuantizeLinearParams p;
        int32_t zp = yt == DType::kU8 ? 131 : (yt == DType::kI8 ? -7 : (yt == DType::kU16 ? 40000 : -300));
        p.inner = std::max<int64_t>(n, 1);
        p.scales = &scale;
        p.zero_points = &zp;
        ref::quantize_linear(DType::kF32, x.data(), yt, a.data(), p, 0, n);
        split_run(n, [&](int64_t s, int64_t e) { x86::quantize_linear(DType::kF32, x.data(), yt, b.data(), p, s, e); });
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), bytes + 1)) << dtype_name(yt) << " n=" << n << " s=" << scale;
      }
}

TEST(QuantizeKernels, QuantizeMatchesReferencePerAxis) {
  const float scales[5] = {0.01f, 0.5f, 1.f, 7.f, 1e-3f};
  const int32_t zps[5] = {3, 0, 100, -20, 1};
  for (DType yt : kQTypes)
    for (int64_t inner : {1, 7, 16, 37})
      for (int64_t outer : {1, 3}) {
        const int64_t n = outer * 5 * inner;
        std::vector<float> x = special_floats(n, 1.f, static_cast<unsigned>(inner));
        std::vector<uint8_t> a(n * dtype_size(yt)), b(n * dtype_size(yt), 0x11);
        ref::QuantizeLinearParams p;
        p.channels = 5;
        p.inner = inner;
        p.scales = scales;
        p.zero_points = zps;
        ref::quantize_linear(DType::kF32, x.data(), yt, a.data(), p, 0, n);
        split_run(n, [&](int64_t s, int64_t e) { x86::quantize_linear(DType::kF32, x.data(), yt, b.data(), p, s, e); });
        ASSERT_EQ(a, b) << dtype_name(yt) << " inner=" << inner;
        // The reference agrees with qmath's scalar definition (u8 / i8 zero points are in range there).
        if (yt == DType::kU8)
          for (int64_t i = 0; i < n; ++i) {
            int64_t c = (i / inner) % 5;
            ASSERT_EQ(a[i], qmath::quantize_value(x[i], scales[c], zps[c], qmath::qrange(qmath::QType::kUInt8))) << i;
          }
      }
}

TEST(QuantizeKernels, QuantizeF16AndInt32FollowNumpy) {
  // f16 / f16: the quotient is rounded to f16 before rounding to an integer (numpy half arithmetic).
  std::vector<uint16_t> xh = {float_to_half(1.0009765625f), float_to_half(-2.5f), float_to_half(2.001953125f)};
  float sh = half_to_float(float_to_half(0.6f));
  ref::QuantizeLinearParams p;
  p.inner = 3;
  p.scales = &sh;
  p.scale_is_f16 = true;
  std::vector<int16_t> y(3);
  ref::quantize_linear(DType::kF16, xh.data(), DType::kI16, y.data(), p, 0, 3);
  for (int i = 0; i < 3; ++i) {
    float q = half_to_float(float_to_half(half_to_float(xh[i]) / sh));
    EXPECT_EQ(y[i], static_cast<int16_t>(std::nearbyint(q))) << i;
  }
  // 4.5 / f16(1.8) = 2.5007 in f32 (-> 3) but 2.5 in f16 (a tie -> 2).
  std::vector<uint16_t> x2 = {float_to_half(4.5f)};
  float s2 = half_to_float(float_to_half(1.8f));
  p.inner = 1;
  p.scales = &s2;
  ref::quantize_linear(DType::kF16, x2.data(), DType::kI16, y.data(), p, 0, 1);
  EXPECT_EQ(y[0], 2);
  // int32 inputs divide in double: 16777217 / 1 is exact in double, not in float.
  std::vector<int32_t> xi = {16777217, -7, 2147483647};
  float one = 1.f;
  int32_t zp = 0;
  p.inner = 3;
  p.scales = &one;
  p.zero_points = &zp;
  p.scale_is_f16 = false;
  std::vector<uint16_t> yu(3);
  ref::quantize_linear(DType::kI32, xi.data(), DType::kU16, yu.data(), p, 0, 3);
  EXPECT_EQ(yu[0], 65535);
  EXPECT_EQ(yu[1], 0);
  float half_scale = 2.f;
  p.scales = &half_scale;
  std::vector<int8_t> yi(3);
  ref::quantize_linear(DType::kI32, xi.data(), DType::kI8, yi.data(), p, 0, 3);
  EXPECT_EQ(yi[1], -4);  // -3.5 -> -4 (ties to even)
  EXPECT_EQ(yi[2], 127);
}

template <typename T>
std::vector<T> random_ints(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<T> v(n);
  for (int64_t i = 0; i < n; ++i) {
    if (i % 11 == 0) v[i] = std::numeric_limits<T>::min();
    else if (i % 13 == 0) v[i] = std::numeric_limits<T>::max();
    else v[i] = static_cast<T>(rng());
  }
  return v;
}

template <typename T>
void check_dequantize(DType xt) {
  const float scales[3] = {0.0123f, 1.f, 250.5f};
  const int32_t zps[3] = {static_cast<int32_t>(std::numeric_limits<T>::min() / 2 + 1), 0,
                          static_cast<int32_t>(std::numeric_limits<T>::max() / 3)};
  for (int64_t n : kSizes)
    for (int64_t channels : {1, 3}) {
      if (n % channels) continue;
      std::vector<T> x = random_ints<T>(n, static_cast<unsigned>(n + channels));
      std::vector<float> a(n + 1, 7.f), b(n + 1, 7.f);
      ref::QuantizeLinearParams p;
      p.channels = channels;
      p.inner = std::max<int64_t>(n / channels, 1);
      p.scales = scales;
      p.zero_points = xt == DType::kI32 ? nullptr : zps;
      ref::dequantize_linear(xt, x.data(), DType::kF32, a.data(), p, 0, n);
      split_run(n, [&](int64_t s, int64_t e) { x86::dequantize_linear(xt, x.data(), DType::kF32, b.data(), p, s, e); });
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), (n + 1) * sizeof(float))) << dtype_name(xt) << " n=" << n;
      for (int64_t i = 0; i < n; ++i) {
        int64_t c = (i / p.inner) % channels;
        ASSERT_EQ(a[i], (static_cast<float>(x[i]) - static_cast<float>(p.zero_points ? zps[c] : 0)) * scales[c]);
      }
    }
}

TEST(QuantizeKernels, DequantizeMatchesReference) {
  check_dequantize<uint8_t>(DType::kU8);
  check_dequantize<int8_t>(DType::kI8);
  check_dequantize<uint16_t>(DType::kU16);
  check_dequantize<int16_t>(DType::kI16);
  check_dequantize<int32_t>(DType::kI32);
}

TEST(QuantizeKernels, DequantizeToF16) {
  std::vector<uint8_t> x = {0, 1, 128, 255};
  float s = half_to_float(float_to_half(0.1f));
  int32_t zp = 128;
  ref::QuantizeLinearParams p;
  p.inner = 4;
  p.scales = &s;
  p.zero_points = &zp;
  std::vector<uint16_t> y(4);
  ref::dequantize_linear(DType::kU8, x.data(), DType::kF16, y.data(), p, 0, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y[i], float_to_half((static_cast<float>(x[i]) - 128.f) * s));
}

TEST(QuantizeKernels, RequantizeMatchesReference) {
  std::mt19937 rng(17);
  for (DType yt : {DType::kU8, DType::kI8})
    for (int64_t inner : {1, 5, 16, 49, 200})
      for (bool with_bias : {false, true}) {
        const int64_t channels = 6, n = 2 * channels * inner;
        std::vector<int32_t> acc(n);
        for (int64_t i = 0; i < n; ++i)
          acc[i] = i % 17 == 0 ? (i % 2 ? 2147483647 : -2147483647 - 1) : static_cast<int32_t>(rng() % 200001) - 100000;
        std::vector<float> mult = {1e-3f, 2.5e-4f, 1.f, 0.37f, 1e-9f, 6.1e-5f};
        std::vector<int32_t> bias = {0, -5000, 777, 1, -1, 123456};
        const int32_t zp = yt == DType::kU8 ? 120 : -3;
        std::vector<uint8_t> a(n), b(n);
        ref::requantize_s32(acc.data(), with_bias ? bias.data() : nullptr, yt, a.data(), channels, inner, mult.data(),
                            zp, 0, n);
        split_run(n, [&](int64_t s, int64_t e) {
          x86::requantize_s32(acc.data(), with_bias ? bias.data() : nullptr, yt, b.data(), channels, inner,
                              mult.data(), zp, s, e);
        });
        ASSERT_EQ(a, b) << "inner=" << inner;
        // Spot-check the definition.
        int64_t i = inner + 3 < n ? inner + 3 : 0, c = (i / inner) % channels;
        double want = std::nearbyint(static_cast<float>(acc[i] + (with_bias ? bias[c] : 0)) * mult[c]) + zp;
        want = std::min(std::max(want, yt == DType::kU8 ? 0.0 : -128.0), yt == DType::kU8 ? 255.0 : 127.0);
        EXPECT_EQ(yt == DType::kU8 ? a[i] : static_cast<int8_t>(a[i]), static_cast<int>(want));
      }
}

TEST(QuantizeKernels, NaNScaleGivesZeroPoint) {
  std::vector<int32_t> acc = {5, -5, 0};
  float mult = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> a(3), b(3);
  ref::requantize_s32(acc.data(), nullptr, DType::kU8, a.data(), 1, 3, &mult, 9, 0, 3);
  x86::requantize_s32(acc.data(), nullptr, DType::kU8, b.data(), 1, 3, &mult, 9, 0, 3);
  EXPECT_EQ(a, (std::vector<uint8_t>{9, 9, 9}));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace kaiwu::kernels
