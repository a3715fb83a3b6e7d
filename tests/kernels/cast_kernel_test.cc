// The Cast reference kernel: numpy-compatible conversions, including the edges (rounding to f16 once,
// float -> integer truncation and wrap, NaN, bool).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/half.h"
#include "kernels/ref/cast.h"

namespace kaiwu::kernels {
namespace {

TEST(CastKernel, DoubleToHalfRoundsOnce) {
  // 1 + 2^-11 + 2^-40 is just above the halfway point between two halves: it must round up. Going through f32
  // first (1 + 2^-11, a tie) would round down to 1.0.
  const double tricky = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(ref::double_to_half(tricky), 0x3c01);
  EXPECT_EQ(float_to_half(static_cast<float>(tricky)), 0x3c00);
  EXPECT_EQ(ref::double_to_half(65504.0), 0x7bff);
  EXPECT_EQ(ref::double_to_half(65520.0), 0x7c00);  // rounds to inf
  EXPECT_EQ(ref::double_to_half(-std::ldexp(1.0, -24)), 0x8001);
  EXPECT_EQ(ref::double_to_half(std::ldexp(1.0, -26)), 0x0000);
  EXPECT_EQ(ref::double_to_half(std::ldexp(1.0, -14)), 0x0400);
  EXPECT_EQ(ref::double_to_half(-INFINITY), 0xfc00);
  EXPECT_EQ(ref::double_to_half(NAN) & 0x7c00, 0x7c00);
  // Agrees with the float path wherever the double is a float.
  for (float f : {0.1f, -3.14159f, 1e-5f, 5e-8f, 60000.f, 1.0009765625f})
    EXPECT_EQ(ref::double_to_half(f), float_to_half(f)) << f;
}

TEST(CastKernel, FloatToIntegers) {
  const std::vector<float> x = {-2.9f, 2.9f, -1.f, 255.f, 256.f, 1e10f, NAN};
  std::vector<int32_t> i32(x.size());
  ASSERT_TRUE(ref::cast(DType::kF32, x.data(), DType::kI32, i32.data(), 7));
  const int32_t imin = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(i32, (std::vector<int32_t>{-2, 2, -1, 255, 256, imin, imin}));
  std::vector<uint8_t> u8(x.size());
  ASSERT_TRUE(ref::cast(DType::kF32, x.data(), DType::kU8, u8.data(), 7));
  EXPECT_EQ(u8, (std::vector<uint8_t>{254, 2, 255, 255, 0, 0, 0}));
  std::vector<int64_t> i64(x.size());
  ASSERT_TRUE(ref::cast(DType::kF32, x.data(), DType::kI64, i64.data(), 7));
  EXPECT_EQ(i64[5], 10000000000LL);
  EXPECT_EQ(i64[6], std::numeric_limits<int64_t>::min());
  const double big = 1.8e19;
  uint64_t u64 = 0;
  ASSERT_TRUE(ref::cast(DType::kF64, &big, DType::kU64, &u64, 1));
  EXPECT_EQ(u64, 18000000000000000000ULL);
}

TEST(CastKernel, BoolAndIntegers) {
  const std::vector<float> x = {0.f, -0.f, 0.5f, NAN};
  std::vector<uint8_t> b(4);
  ASSERT_TRUE(ref::cast(DType::kF32, x.data(), DType::kBool, b.data(), 4));
  EXPECT_EQ(b, (std::vector<uint8_t>{0, 0, 1, 1}));
  const std::vector<int64_t> big = {(int64_t{1} << 40) + 3, -1};
  std::vector<uint16_t> u16(2);
  ASSERT_TRUE(ref::cast(DType::kI64, big.data(), DType::kU16, u16.data(), 2));
  EXPECT_EQ(u16, (std::vector<uint16_t>{3, 65535}));
  std::vector<float> f(2);
  ASSERT_TRUE(ref::cast(DType::kBool, b.data() + 1, DType::kF32, f.data(), 2));
  EXPECT_EQ(f, (std::vector<float>{0.f, 1.f}));
  std::vector<uint16_t> h(2);
  ASSERT_TRUE(ref::cast(DType::kI32, std::vector<int32_t>{2049, -7}.data(), DType::kF16, h.data(), 2));
  EXPECT_EQ(h[0], float_to_half(2048.f));  // 2049 is a tie between 2048 and 2050: even
  EXPECT_EQ(h[1], float_to_half(-7.f));
  EXPECT_FALSE(ref::cast(DType::kUndefined, f.data(), DType::kF32, f.data(), 1));
}

}  // namespace
}  // namespace kaiwu::kernels
