// Differential tests: the AVX-512 fixed-point elementwise kernels (QAdd, QMul, Requantize, QLut) against the scalar
// reference, bit for bit, over odd sizes, tails, partial ranges, broadcasts, edge values and every type pair.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kaiwu/tensor.h"
#include "kernels/x86/qelementwise.h"

namespace kaiwu::kernels {
namespace {

const DType kTypes[] = {DType::kI8, DType::kU8, DType::kI16};

// n random elements of type t as raw bytes; the first elements are the type's edge values (lowest, max, 0, 255).
std::vector<uint8_t> random_bytes(DType t, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n * dtype_size(t));
  int lo = t == DType::kI8 ? -128 : t == DType::kU8 ? 0 : -32768;
  int hi = t == DType::kI8 ? 127 : t == DType::kU8 ? 255 : 32767;
  std::uniform_int_distribution<int> d(lo, hi);
  const int edges[] = {lo, hi, 0, t == DType::kI8 ? -1 : 255, 1};
  for (int64_t i = 0; i < n; ++i) {
    int x = i < 5 ? edges[i] : d(rng);
    if (t == DType::kI16) {
      int16_t s = static_cast<int16_t>(x);
      std::memcpy(&v[i * 2], &s, 2);
    } else {
      v[i] = static_cast<uint8_t>(x);
    }
  }
  return v;
}

// A zero point inside t's range.
int32_t zp_for(DType t, int k) {
  if (t == DType::kU8) return k == 0 ? 0 : (k == 1 ? 128 : 255);
  if (t == DType::kI8) return k == 0 ? 0 : (k == 1 ? -128 : 127);
  return k == 0 ? 0 : (k == 1 ? -300 : 1000);
}

TEST(QElementwiseX86, RequantizeMatchesReferenceAllTypes) {
  ASSERT_TRUE(x86::qelementwise_vectorized());
  const float ms[] = {0.5f, 0.37f, 1.0f, 3.9f, 0.0123f, 1e-9f, 250.f};
  for (DType xt : kTypes)
    for (DType yt : kTypes)
      for (int64_t n : {1, 15, 16, 17, 63, 64, 65, 333}) {
        std::vector<uint8_t> x = random_bytes(xt, n, static_cast<unsigned>(n * 7 + 1));
        for (float m : ms)
          for (int k = 0; k < 3; ++k) {
            ref::RequantizeParams p;
            p.m = m;
            p.zx = zp_for(xt, k);
            p.zy = zp_for(yt, 2 - k);
            std::vector<uint8_t> a(n * dtype_size(yt), 0xAB), b(n * dtype_size(yt), 0xCD);
            ref::requantize(xt, x.data(), yt, a.data(), p, 0, n);
            x86::requantize(xt, x.data(), yt, b.data(), p, 0, n);
            ASSERT_EQ(a, b) << dtype_name(xt) << "->" << dtype_name(yt) << " n=" << n << " m=" << m << " k=" << k;
          }
      }
}

TEST(QElementwiseX86, RequantizeRoundsHalfToEvenAndSaturates) {
  // x - zx = 1, 3, 5, -1, -3 with m = 0.5: ties 0.5, 1.5, 2.5, -0.5, -1.5 -> 0, 2, 2, -0, -2; 127 * 4 saturates.
  const std::vector<int8_t> x = {1, 3, 5, -1, -3, 127, -128};
  std::vector<int8_t> y(x.size());
  ref::RequantizeParams p{0, 0, 0.5f};
  x86::requantize(DType::kI8, x.data(), DType::kI8, y.data(), p, 0, static_cast<int64_t>(x.size()));
  EXPECT_EQ(y, (std::vector<int8_t>{0, 2, 2, 0, -2, 64, -64}));
  p.m = 4.f;
  x86::requantize(DType::kI8, x.data(), DType::kI8, y.data(), p, 0, static_cast<int64_t>(x.size()));
  EXPECT_EQ(y, (std::vector<int8_t>{4, 12, 20, -4, -12, 127, -128}));
}

TEST(QElementwiseX86, RequantizePartialRanges) {
  const int64_t n = 100;
  std::vector<uint8_t> x = random_bytes(DType::kU8, n, 5);
  ref::RequantizeParams p{128, -3, 0.731f};
  for (int64_t b : {0, 3, 17})
    for (int64_t e : {b + 1, b + 16, b + 33, n}) {
      std::vector<int8_t> r(n, 7), f(n, 7);
      ref::requantize(DType::kU8, x.data(), DType::kI8, r.data(), p, b, e);
      x86::requantize(DType::kU8, x.data(), DType::kI8, f.data(), p, b, e);
      ASSERT_EQ(r, f) << b << ".." << e;
    }
}

struct BinCase {
  Shape a, b;
};

std::vector<int64_t> strides_to(const Shape& in, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) {
    const size_t o = out.size() - in.size() + i;
    st[o] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return st;
}

Shape bcast(const Shape& a, const Shape& b) {
  Shape o(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < o.size(); ++i) {
    int64_t da = i + a.size() >= o.size() ? a[i + a.size() - o.size()] : 1;
    int64_t db = i + b.size() >= o.size() ? b[i + b.size() - o.size()] : 1;
    o[i] = std::max(da, db);
  }
  return o;
}

TEST(QElementwiseX86, QAddQMulMatchReferenceOverBroadcasts) {
  const std::vector<BinCase> cases = {
      {{37}, {37}},                    // same shape, tail
      {{2, 3, 5, 7}, {2, 3, 5, 7}},    // same shape, merged
      {{3, 67}, {}},                   // B scalar
      {{1, 5, 3, 33}, {33}},           // B along the last axis (NHWC per channel)
      {{2, 19, 4, 5}, {1, 19, 1, 1}},  // B per channel (NCHW)
      {{4, 1, 17}, {1, 3, 1}},         // general broadcast, both operands
      {{1}, {5, 18}},                  // A scalar
  };
  int checked = 0;
  for (const BinCase& c : cases)
    for (bool mul : {false, true})
      for (DType xt : {DType::kI8, DType::kU8, DType::kI16})
        for (DType yt : kTypes) {
          const Shape out = bcast(c.a, c.b);
          const BroadcastPlan plan = make_broadcast_plan(out, strides_to(c.a, out), strides_to(c.b, out));
          int64_t na = 1, nb = 1;
          for (int64_t d : c.a) na *= d;
          for (int64_t d : c.b) nb *= d;
          std::vector<uint8_t> a = random_bytes(xt, na, 11), b = random_bytes(xt, nb, 12);
          ref::QBinaryParams p;
          p.mul = mul;
          p.za = zp_for(xt, 1);
          p.zb = zp_for(xt, 2);
          p.zy = zp_for(yt, 1);
          p.ma = 0.0371f;
          p.mb = 0.5f;
          p.m = mul ? (xt == DType::kI16 ? 1e-6f : 0.00127f) : 1.f;
          const int64_t n = plan.numel;
          for (int64_t b0 : {int64_t{0}, n / 3}) {
            std::vector<uint8_t> r(n * dtype_size(yt), 1), f(n * dtype_size(yt), 1);
            ref::qbinary(xt, a.data(), b.data(), yt, r.data(), plan, p, b0, n);
            x86::qbinary(xt, a.data(), b.data(), yt, f.data(), plan, p, b0, n);
            ASSERT_EQ(r, f) << (mul ? "mul " : "add ") << shape_to_string(c.a) << " " << shape_to_string(c.b) << " "
                            << dtype_name(xt) << "->" << dtype_name(yt) << " from " << b0;
            ++checked;
          }
        }
  EXPECT_EQ(checked, 7 * 2 * 3 * 3 * 2);
}

TEST(QElementwiseX86, BroadcastPlanMergesDims) {
  // Same shape: one row. Per-channel NCHW: rows of H*W with a scalar b. Last axis: rows of C with contiguous b.
  BroadcastPlan p = make_broadcast_plan({2, 3, 4}, {12, 4, 1}, {12, 4, 1});
  EXPECT_EQ(p.dims, (std::vector<int64_t>{24}));
  p = make_broadcast_plan({2, 3, 4, 5}, {60, 20, 5, 1}, {0, 1, 0, 0});
  EXPECT_EQ(p.dims, (std::vector<int64_t>{2, 3, 20}));
  EXPECT_EQ(p.b_strides, (std::vector<int64_t>{0, 1, 0}));
  p = make_broadcast_plan({1, 6, 6, 8}, {288, 48, 8, 1}, {0, 0, 0, 1});
  EXPECT_EQ(p.dims, (std::vector<int64_t>{36, 8}));
  EXPECT_EQ(p.numel, 288);
}

TEST(QElementwiseX86, QLutMatchesReference) {
  std::mt19937 rng(3);
  std::vector<uint8_t> table(256);
  for (auto& t : table) t = static_cast<uint8_t>(rng());
  std::vector<uint8_t> x(300);
  for (int i = 0; i < 300; ++i) x[i] = static_cast<uint8_t>(i < 256 ? i : rng());
  for (bool sgn : {false, true})
    for (int64_t b : {0, 1, 13})
      for (int64_t e : {b + 1, b + 63, b + 64, b + 65, int64_t{300}}) {
        std::vector<uint8_t> r(300, 0), f(300, 0);
        ref::qlut(sgn, x.data(), table.data(), r.data(), b, e);
        x86::qlut(sgn, x.data(), table.data(), f.data(), b, e);
        ASSERT_EQ(r, f) << sgn << " " << b << ".." << e;
      }
  // Semantics: uint8 x indexes directly; int8 x indexes x + 128.
  std::vector<uint8_t> y(256);
  x86::qlut(true, x.data(), table.data(), y.data(), 0, 256);
  EXPECT_EQ(y[0], table[128]);    // x = 0
  EXPECT_EQ(y[128], table[0]);    // x = -128
  EXPECT_EQ(y[255], table[127]);  // x = -1
  x86::qlut(false, x.data(), table.data(), y.data(), 0, 256);
  EXPECT_EQ(y[200], table[200]);
}

}  // namespace
}  // namespace kaiwu::kernels
