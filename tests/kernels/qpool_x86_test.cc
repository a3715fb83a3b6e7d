// Differential tests: the optimized fixed-point pools (QGlobalAveragePool, QAveragePool) and the int8 / uint8 max
// pools against the scalar reference, bit for bit: NCHW and NHWC, odd channel counts (vector tails), pads, strides,
// dilations, ceil-mode windows, count_include_pad, edge values, every type pair, and 1 vs 2 threads.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/pool.h"
#include "kernels/ref/qpool.h"
#include "kernels/x86/pool.h"
#include "kernels/x86/qpool.h"
#include "kaiwu/tensor.h"
#include "kernel_test_util.h"

namespace kaiwu::kernels {
namespace {

const DType kTypes[] = {DType::kI8, DType::kU8, DType::kI16};

// n random elements of t as bytes, with t's edge values sprinkled in.
std::vector<uint8_t> random_bytes(DType t, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  const int lo = t == DType::kI8 ? -128 : t == DType::kU8 ? 0 : -32768;
  const int hi = t == DType::kI8 ? 127 : t == DType::kU8 ? 255 : 32767;
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<uint8_t> v(n * dtype_size(t));
  for (int64_t i = 0; i < n; ++i) {
    const int x = i % 11 == 0 ? hi : i % 13 == 0 ? lo : d(rng);
    if (t == DType::kI16) {
      const int16_t s = static_cast<int16_t>(x);
      std::memcpy(&v[i * 2], &s, 2);
    } else {
      v[i] = static_cast<uint8_t>(x);
    }
  }
  return v;
}

QPoolQuant quant(DType xt, DType yt) {
  QPoolQuant q;
  q.x_scale = 0.0213f;
  q.y_scale = xt == DType::kI16 && yt != DType::kI16 ? 7.5f : 0.0171f;
  q.zx = xt == DType::kU8 ? 131 : xt == DType::kI8 ? -7 : 100;
  q.zy = yt == DType::kU8 ? 120 : yt == DType::kI8 ? 3 : -50;
  return q;
}

PoolParams pool(int64_t n, int64_t c, std::vector<int64_t> in, std::vector<int64_t> k, std::vector<int64_t> s,
                std::vector<int64_t> d, std::vector<int64_t> pb, std::vector<int64_t> pe, bool ceil_mode, bool cip) {
  PoolParams p;
  p.batch = n;
  p.channels = c;
  test::set_window(&p, in, k, s, d, pb, pe);
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t span = in[i] + pb[i] + pe[i] - (k[i] - 1) * d[i] - 1;
    int64_t o = (ceil_mode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
    if (ceil_mode && (o - 1) * s[i] >= in[i] + pb[i]) --o;
    p.out_dims.push_back(o);
  }
  p.count_include_pad = cip;
  return p;
}

std::vector<PoolParams> pool_cases() {
  return {
      pool(1, 67, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false, false),   // stem-like, channel tail
      pool(2, 3, {7, 9}, {2, 2}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true, false),     // ceil mode, partial windows
      pool(1, 5, {10, 11}, {3, 2}, {1, 2}, {2, 1}, {2, 0}, {1, 1}, false, true),   // dilation, asymmetric pads
      pool(1, 17, {6, 6}, {5, 5}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, true, true),     // big pads + ceil, include pad
      pool(1, 17, {6, 6}, {5, 5}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, true, false),    // same, valid taps only
      pool(3, 2, {15}, {4}, {3}, {1}, {1}, {2}, true, false),                      // 1-D
      pool(1, 32, {5, 5}, {5, 5}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false, false),   // window == input
      pool(1, 16, {2, 3}, {2, 2}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, false, false),   // windows fully in the padding
      pool(1, 16, {2, 3}, {2, 2}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, false, true),
  };
}

int64_t numel_in(const PoolParams& p) { return p.batch * p.channels * test::prod(p.in_dims); }
int64_t numel_out(const PoolParams& p) { return p.batch * p.channels * test::prod(p.out_dims); }

TEST(QPoolX86, QAveragePoolMatchesReference) {
  int checked = 0;
  for (PoolParams p : pool_cases())
    for (ActLayout l : {ActLayout::kNCHW, ActLayout::kNHWC})
      for (DType xt : kTypes)
        for (DType yt : kTypes) {
          p.layout = l;
          const std::vector<uint8_t> x = random_bytes(xt, numel_in(p), static_cast<unsigned>(numel_in(p)));
          const QPoolQuant q = quant(xt, yt);
          const size_t ny = numel_out(p) * dtype_size(yt);
          std::vector<uint8_t> r(ny, 0x5A);
          ref::qavg_pool(xt, x.data(), yt, r.data(), p, q);
          for (int threads : {1, 2}) {
            set_num_threads(threads);
            std::vector<uint8_t> f(ny, 0xA5);
            ASSERT_TRUE(x86::qavg_pool(xt, x.data(), yt, f.data(), p, q));
            ASSERT_EQ(r, f) << "case in " << shape_to_string(p.in_dims) << " k " << shape_to_string(p.kernel)
                            << " layout " << int(l) << " " << dtype_name(xt) << "->" << dtype_name(yt) << " threads "
                            << threads;
            ++checked;
          }
          set_num_threads(1);
        }
  EXPECT_EQ(checked, 9 * 2 * 9 * 2);
}

TEST(QPoolX86, QAveragePoolEmptyWindowGivesZeroPoint) {
  // A 1x1 input, 2x2 window, pads 2: output 4x4; windows starting at -2 or 1 see no input tap.
  PoolParams p = pool(1, 1, {1, 1}, {2, 2}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, false, false);
  const int8_t x = 100;
  std::vector<int8_t> y(16, 0), f(16, 1);
  QPoolQuant q{0, -5, 1.f, 1.f};
  ref::qavg_pool(DType::kI8, &x, DType::kI8, y.data(), p, q);
  EXPECT_EQ(y[0], -5);    // empty window
  EXPECT_EQ(y[5], 95);    // (1, 1) covers the input: 100 / 1 - 5
  ASSERT_TRUE(x86::qavg_pool(DType::kI8, &x, DType::kI8, f.data(), p, q));
  EXPECT_EQ(y, f);
  EXPECT_FALSE(x86::qavg_pool(DType::kI8, &x, DType::kI8, y.data(),
                              pool(1, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, false,
                                   false),
                              q));  // 3-D: not handled by the optimized kernel
}

TEST(QPoolX86, QGlobalAveragePoolMatchesReference) {
  int checked = 0;
  for (int64_t c : {1, 15, 16, 64, 65, 130})
    for (int64_t sp : {1, 7, 49})
      for (ActLayout l : {ActLayout::kNCHW, ActLayout::kNHWC})
        for (DType xt : kTypes)
          for (DType yt : kTypes) {
            const int64_t n = 2;
            const std::vector<uint8_t> x = random_bytes(xt, n * c * sp, static_cast<unsigned>(c * 100 + sp));
            const QPoolQuant q = quant(xt, yt);
            std::vector<uint8_t> r(n * c * dtype_size(yt), 1), f(n * c * dtype_size(yt), 2);
            ref::qglobal_avg_pool(xt, x.data(), yt, r.data(), n, c, sp, l, q);
            x86::qglobal_avg_pool(xt, x.data(), yt, f.data(), n, c, sp, l, q);
            ASSERT_EQ(r, f) << "c " << c << " sp " << sp << " layout " << int(l) << " " << dtype_name(xt) << "->"
                            << dtype_name(yt);
            ++checked;
          }
  EXPECT_EQ(checked, 6 * 3 * 2 * 9);
}

TEST(QPoolX86, QGlobalAveragePoolValues) {
  // NHWC [1, 2, 2, 3] uint8, zx 10, scales 1 / 1: mean(x) - 10 rounded half to even, + zy 0.
  const std::vector<uint8_t> x = {10, 20, 0, 11, 20, 0, 12, 20, 255, 13, 21, 255};
  std::vector<uint8_t> y(3);
  QPoolQuant q{10, 0, 1.f, 1.f};
  x86::qglobal_avg_pool(DType::kU8, x.data(), DType::kU8, y.data(), 1, 3, 4, ActLayout::kNHWC, q);
  // channel 0: mean 11.5 - 10 = 1.5 -> 2; channel 1: 20.25 - 10 -> 10; channel 2: 127.5 - 10 = 117.5 -> 118.
  EXPECT_EQ(y, (std::vector<uint8_t>{2, 10, 118}));
}

template <typename T>
void check_max_pool(bool (*fast)(const PoolParams&, const T*, T*)) {
  for (PoolParams p : pool_cases())
    for (ActLayout l : {ActLayout::kNCHW, ActLayout::kNHWC}) {
      p.layout = l;
      const DType t = DTypeOf<T>::value;
      const std::vector<uint8_t> xb = random_bytes(t, numel_in(p), 77);
      const T* x = reinterpret_cast<const T*>(xb.data());
      std::vector<T> r(numel_out(p), T(1)), f(numel_out(p), T(2));
      ref::max_pool<T>(p, x, r.data(), nullptr, false);
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        ASSERT_TRUE(fast(p, x, f.data()));
        ASSERT_EQ(r, f) << dtype_name(t) << " in " << shape_to_string(p.in_dims) << " layout " << int(l);
      }
      set_num_threads(1);
    }
}

TEST(QPoolX86, Int8MaxPoolMatchesReference) {
  check_max_pool<int8_t>(x86::max_pool_i8);
  check_max_pool<uint8_t>(x86::max_pool_u8);
}

}  // namespace
}  // namespace kaiwu::kernels
