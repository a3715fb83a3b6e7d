// Differential tests of the int16 QLinearConv kernels: the exact split path (x = 256 * hi + lo, two oneDNN int8
// convolutions, AVX-512 int64 requantization) against the scalar int64 reference over odd shapes (1-D/2-D/3-D,
// groups, depthwise, strides, dilations, asymmetric pads), NCHW and NHWC, int16 / int8 / uint8 outputs, packed and
// run-time weights, with accumulators beyond int32. Results must be bit-identical.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/qconv16.h"
#include "core/parallel.h"
#include "kernels/cpu_info.h"
#include "kernels/x86/qconv16.h"
#include "kernels/x86/qconv16_direct.h"

namespace kaiwu::kernels {
namespace {

struct ConvCase {
  int nsp;
  int64_t n, c, m, group;
  int64_t in[3], k[3], stride[3], dil[3], pb[3], pe[3];
};

std::vector<ConvCase> cases() {
  return {
      {2, 1, 3, 8, 1, {1, 11, 13}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {2, 2, 16, 32, 1, {1, 9, 9}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 1}, {0, 1, 0}},
      {2, 1, 32, 32, 32, {1, 10, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},   // depthwise
      {2, 1, 24, 36, 1, {1, 7, 9}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},      // 1x1
      {2, 1, 8, 16, 2, {1, 12, 12}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 2}, {0, 2, 2}},     // dilated, grouped
      {2, 1, 64, 17, 1, {1, 6, 5}, {1, 5, 3}, {1, 1, 2}, {1, 1, 1}, {0, 2, 0}, {0, 2, 1}},      // odd M
      {2, 1, 48, 48, 48, {1, 14, 14}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 1, 1}},   // dw stride 2
      {2, 1, 256, 9, 1, {1, 5, 5}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},      // K = 2304
      {1, 2, 5, 7, 1, {1, 1, 20}, {1, 1, 3}, {1, 1, 2}, {1, 1, 1}, {0, 0, 1}, {0, 0, 0}},       // 1-D
      {3, 1, 4, 6, 1, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}},        // 3-D
  };
}

ref::QConvShape shape_of(const ConvCase& cc) {
  ref::QConvShape s;
  s.batch = cc.n;
  s.in_channels = cc.c;
  s.out_channels = cc.m;
  s.group = cc.group;
  for (int i = 0; i < 3; ++i) {
    s.in[i] = cc.in[i];
    s.kernel[i] = cc.k[i];
    s.stride[i] = cc.stride[i];
    s.dilation[i] = cc.dil[i];
    s.pad_begin[i] = cc.pb[i];
    s.out[i] = (cc.in[i] + cc.pb[i] + cc.pe[i] - ((cc.k[i] - 1) * cc.dil[i] + 1)) / cc.stride[i] + 1;
  }
  return s;
}

// [N, C, P] <-> [N, P, C] of T.
template <typename T>
std::vector<T> permute(const std::vector<T>& v, int64_t n, int64_t c, int64_t p, bool to_nhwc) {
  std::vector<T> r(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i = 0; i < p; ++i) {
        const int64_t nchw = (b * c + ci) * p + i, nhwc = (b * p + i) * c + ci;
        if (to_nhwc) r[nhwc] = v[nchw];
        else r[nchw] = v[nhwc];
      }
  return r;
}

// Random int16 x, int8 w, int32 bias and multipliers that put the outputs around yt's range (some saturate).
// extreme 1: x at +-32767/-32768 and w 127; extreme 2: every product at its largest, (-32768) * (-128) = 2^22.
struct ConvData {
  std::vector<int16_t> x;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  std::vector<float> mult;
};

ConvData make_conv_data(const ref::QConvShape& s, DType yt, int extreme, std::mt19937& rng) {
  const int64_t x_n = s.batch * s.in_channels * s.in[0] * s.in[1] * s.in[2];
  const int64_t w_n = s.out_channels * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
  std::uniform_int_distribution<int> dx(-32768, 32767), dw(-128, 127), db(-2000000, 2000000);
  ConvData d;
  d.x.resize(x_n);
  d.w.resize(w_n);
  d.bias.resize(s.out_channels);
  d.mult.resize(s.out_channels);
  for (auto& e : d.x)
    e = static_cast<int16_t>(extreme == 1 ? (dx(rng) & 1 ? 32767 : -32768) : (extreme == 2 ? -32768 : dx(rng)));
  for (auto& e : d.w) e = static_cast<int8_t>(extreme == 1 ? 127 : (extreme == 2 ? -128 : dw(rng)));
  for (auto& e : d.bias) e = db(rng);
  const double k = static_cast<double>(w_n / s.out_channels);
  for (auto& e : d.mult)
    e = static_cast<float>((yt == DType::kI16 ? 32768.0 : 128.0) / (32768.0 * 128.0 * std::sqrt(k)) *
                           std::uniform_real_distribution<double>(0.3, 3.0)(rng));
  return d;
}

// NHWC output bytes (elements of es bytes) back to NCHW.
std::vector<uint8_t> nhwc_bytes_to_nchw(const std::vector<uint8_t>& got, size_t es, int64_t n, int64_t c, int64_t p) {
  if (es == 1) return permute(got, n, c, p, false);
  std::vector<int16_t> t(got.size() / 2);
  std::memcpy(t.data(), got.data(), got.size());
  t = permute(t, n, c, p, false);
  std::vector<uint8_t> r(got.size());
  std::memcpy(r.data(), t.data(), r.size());
  return r;
}

TEST(QConv16, SplitPathMatchesReferenceBitForBit) {
  if (!x86::QConvOnednn::types_supported(DType::kU8, DType::kI8, DType::kI32)) GTEST_SKIP() << "no AVX-512 VNNI";
  std::mt19937 rng(321);
  int64_t compared = 0, saturated = 0;
  int variant = 0;
  for (const ConvCase& cc : cases()) {
    for (int v = 0; v < 3; ++v, ++variant) {
      const bool nhwc = (variant % 2 == 1) && cc.nsp >= 1;
      const DType yt = v == 0 ? DType::kI16 : (v == 1 ? DType::kI8 : DType::kU8);
      const bool packed = variant % 3 != 2, extreme = variant % 4 == 3, bias_on = variant % 5 != 4;
      const ref::QConvShape s = shape_of(cc);
      const int64_t in_plane = s.in[0] * s.in[1] * s.in[2], out_plane = s.out[0] * s.out[1] * s.out[2];
      const int64_t x_n = s.batch * s.in_channels * in_plane, y_n = s.batch * s.out_channels * out_plane;
      const ConvData d = make_conv_data(s, yt, extreme ? 1 : 0, rng);
      const auto& [x, w, bias, mult] = d;
      const int32_t y_zp = yt == DType::kU8 ? 100 : (yt == DType::kI8 ? -3 : 0);
      const int32_t* b = bias_on ? bias.data() : nullptr;
      // Reference (NCHW).
      std::vector<int64_t> acc(y_n);
      ref::qconv_s64(DType::kI16, x.data(), 0, DType::kI8, w.data(), nullptr, b, acc.data(), s, 0,
                     s.batch * s.out_channels);
      const size_t es = yt == DType::kI16 ? 2 : 1;
      std::vector<uint8_t> want(y_n * es), got(y_n * es);
      ref::requantize_s64(acc.data(), yt, want.data(), s.out_channels, out_plane, mult.data(), y_zp, 0, y_n);
      // Fast path.
      x86::QConvOnednnConfig c;
      c.shape = s;
      c.nsp = cc.nsp;
      for (int i = 0; i < 3; ++i) c.pads_end[i] = cc.pe[i];
      c.xt = DType::kI16;
      c.wt = DType::kI8;
      c.nhwc = nhwc;
      std::unique_ptr<x86::QConv16Onednn> f;
      ASSERT_TRUE(x86::QConv16Onednn::create(c, &f).ok());
      if (packed) {
        ASSERT_TRUE(f->pack_weights(w.data()).ok());
      }
      std::vector<int16_t> xin = nhwc ? permute(x, s.batch, s.in_channels, in_plane, true) : x;
      std::vector<uint8_t> lo(x_n);
      std::vector<int8_t> hi(x_n);
      x86::split_int16(xin.data(), lo.data(), hi.data(), 0, x_n);
      std::vector<int32_t> alo(y_n), ahi(y_n);
      ASSERT_TRUE(f->run(lo.data(), hi.data(), packed ? nullptr : w.data(), alo.data(), ahi.data()).ok());
      // Two pieces, to exercise a range start inside a run of one channel.
      const int64_t mid = y_n / 3;
      const int64_t inner = nhwc ? 1 : out_plane;
      x86::requantize_split_s32(alo.data(), ahi.data(), b, yt, got.data(), s.out_channels, inner, mult.data(), y_zp, 0, mid);
      x86::requantize_split_s32(alo.data(), ahi.data(), b, yt, got.data(), s.out_channels, inner, mult.data(), y_zp, mid, y_n);
      if (nhwc) got = nhwc_bytes_to_nchw(got, es, s.batch, s.out_channels, out_plane);
      int64_t diff = 0;
      for (size_t i = 0; i < want.size(); ++i) diff += want[i] != got[i];
      EXPECT_EQ(diff, 0) << "case " << variant << " nhwc " << nhwc << " yt " << dtype_name(yt);
      if (yt == DType::kI16) {
        const int16_t* yv = reinterpret_cast<const int16_t*>(want.data());
        for (int64_t i = 0; i < y_n; ++i) saturated += yv[i] == 32767 || yv[i] == -32768;
      }
      compared += y_n;
    }
  }
  EXPECT_GT(compared, 10000);
  EXPECT_LT(saturated, compared / 2);
}

// The direct pointwise / depthwise kernels against the scalar reference: odd channel counts (vector tails), every
// pixel-tile remainder, strides, dilations, asymmetric pads, 5x5 windows, the largest exact window with extreme
// values, int16 / int8 / uint8 outputs, and ranges split at odd pixels. Results must be bit-identical.
TEST(QConv16, DirectKernelsMatchReferenceBitForBit) {
  std::vector<ConvCase> cs = {
      {2, 1, 24, 36, 1, {1, 7, 9}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},       // pointwise
      {2, 2, 17, 70, 1, {1, 5, 7}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},       // odd C, M tail
      {2, 1, 511, 5, 1, {1, 3, 4}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},       // C = kMaxSum
      {2, 1, 96, 130, 1, {1, 1, 13}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {2, 1, 32, 32, 32, {1, 10, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},    // depthwise
      {2, 2, 48, 48, 48, {1, 14, 13}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 1, 1}},    // stride 2
      {2, 1, 19, 19, 19, {1, 9, 11}, {1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}},     // 5x5, C tail
      {2, 1, 40, 40, 40, {1, 12, 12}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 1}, {0, 1, 2}},    // dilated
      {1, 1, 16, 16, 16, {1, 1, 20}, {1, 1, 3}, {1, 1, 2}, {1, 1, 1}, {0, 0, 1}, {0, 0, 0}},     // 1-D
      {2, 1, 96, 24, 1, {1, 9, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},      // full, 2 flushes
      {2, 2, 16, 16, 1, {1, 13, 11}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 0}},     // stride 2
      {2, 1, 17, 40, 1, {1, 12, 9}, {1, 5, 3}, {1, 1, 2}, {1, 2, 1}, {0, 3, 1}, {0, 2, 1}},      // dilated, odd C
      {2, 1, 300, 20, 1, {1, 4, 5}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 1, 1}},      // flush every tap
      {2, 1, 16, 8, 1, {1, 8, 8}, {1, 1, 1}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},        // strided 1x1
  };
  std::mt19937 rng(99);
  int64_t compared = 0;
  int variant = 0;
  for (const ConvCase& cc : cs) {
    for (int v = 0; v < 3; ++v, ++variant) {
      const DType yt = v == 0 ? DType::kI16 : (v == 1 ? DType::kI8 : DType::kU8);
      const bool extreme = variant % 4 == 2 || (cc.c == 96 && cc.k[1] == 3 && v == 1);  // the latter: int64 flushes
      const ref::QConvShape s = shape_of(cc);
      ASSERT_EQ(x86::QConv16Direct::supported(s), kernels::cpu_info().avx512vnni) << variant;
      if (!x86::QConv16Direct::supported(s)) continue;
      const int64_t in_plane = s.in[1] * s.in[2], out_plane = s.out[1] * s.out[2];
      const int64_t y_n = s.batch * s.out_channels * out_plane;
      const ConvData d = make_conv_data(s, yt, extreme ? 2 : 0, rng);
      const auto& [x, w, bias, mult] = d;
      const int32_t y_zp = yt == DType::kU8 ? 100 : (yt == DType::kI8 ? -3 : 7);
      const int32_t* b = variant % 5 != 4 ? bias.data() : nullptr;
      std::vector<int64_t> acc(y_n);
      ref::qconv_s64(DType::kI16, x.data(), 0, DType::kI8, w.data(), nullptr, b, acc.data(), s, 0,
                     s.batch * s.out_channels);
      if (extreme && s.group == 1 && s.in_channels == x86::QConv16Direct::kMaxSum) {
        EXPECT_EQ(acc[0] - (b ? b[0] : 0), int64_t{511} << 22);  // the exact int32 limit is reached
      }
      if (extreme && s.group == 1 && s.in_channels == 96 && s.kernel[1] == 3) {  // beyond int32: int64 partial sums
        EXPECT_GT(acc[(s.out[1] / 2) * s.out[2] + s.out[2] / 2] - (b ? b[0] : 0), int64_t{1} << 31);
      }
      const size_t es = yt == DType::kI16 ? 2 : 1;
      std::vector<uint8_t> want(y_n * es), got(y_n * es, 0xAB);
      ref::requantize_s64(acc.data(), yt, want.data(), s.out_channels, out_plane, mult.data(), y_zp, 0, y_n);
      std::unique_ptr<x86::QConv16Direct> f;
      ASSERT_TRUE(x86::QConv16Direct::create(s, w.data(), &f).ok());
      const std::vector<int16_t> xin = permute(x, s.batch, s.in_channels, in_plane, true);
      const int64_t pix = f->pixels(), mid = pix / 3 + 1;
      f->run(xin.data(), b, mult.data(), y_zp, yt, got.data(), 0, mid);
      f->run(xin.data(), b, mult.data(), y_zp, yt, got.data(), mid, pix);
      got = nhwc_bytes_to_nchw(got, es, s.batch, s.out_channels, out_plane);
      int64_t diff = 0;
      for (size_t i = 0; i < want.size(); ++i) diff += want[i] != got[i];
      EXPECT_EQ(diff, 0) << "case " << variant << " yt " << dtype_name(yt);
      compared += y_n;
    }
  }
  if (kernels::cpu_info().avx512vnni) {
    EXPECT_GT(compared, 20000);
  }
}

TEST(QConv16, DirectKernelsRejectOtherShapes) {
  ConvCase wide{2, 1, 512, 8, 1, {1, 4, 4}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}};
  ConvCase wide3{2, 1, 600, 8, 1, {1, 5, 5}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}};
  ConvCase grouped{2, 1, 16, 32, 16, {1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}};
  ConvCase three_d{3, 1, 4, 6, 1, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}};
  ConvCase stem{2, 1, 3, 16, 1, {1, 16, 16}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}};
  for (const ConvCase& cc : {wide, wide3, grouped, three_d, stem}) {
    EXPECT_FALSE(x86::QConv16Direct::supported(shape_of(cc)));
    std::unique_ptr<x86::QConv16Direct> f;
    std::vector<int8_t> w(cc.m * cc.c / cc.group * cc.k[0] * cc.k[1] * cc.k[2]);
    EXPECT_FALSE(x86::QConv16Direct::create(shape_of(cc), w.data(), &f).ok());
  }
}

TEST(QConv16, ReferenceAccumulatesBeyondInt32) {
  // 1 output, 512 channels x 3x3 of 32767 * 127: 19.2e9, far beyond int32.
  ref::QConvShape s;
  s.in_channels = 512;
  s.kernel[1] = s.kernel[2] = 3;
  s.in[1] = s.in[2] = 3;
  std::vector<int16_t> x(512 * 9, 32767);
  std::vector<int8_t> w(512 * 9, 127);
  const int32_t bias = -5;
  int64_t acc = 0;
  ref::qconv_s64(DType::kI16, x.data(), 0, DType::kI8, w.data(), nullptr, &bias, &acc, s, 0, 1);
  EXPECT_EQ(acc, int64_t{32767} * 127 * 512 * 9 - 5);
  const float m = 1e-6f;
  int16_t y = 0;
  ref::requantize_s64(&acc, DType::kI16, &y, 1, 1, &m, 0, 0, 1);
  EXPECT_EQ(y, static_cast<int16_t>(std::nearbyint(static_cast<double>(acc) * static_cast<double>(m))));
  // Ties round to even, and saturation.
  int64_t a2[3] = {5, 7, 1 << 30};
  const float half = 0.5f;
  int16_t y2[3];
  ref::requantize_s64(a2, DType::kI16, y2, 1, 1, &half, 0, 0, 3);
  EXPECT_EQ(y2[0], 2);
  EXPECT_EQ(y2[1], 4);
  EXPECT_EQ(y2[2], 32767);
}

TEST(QConv16, SplitHalvesRecombine) {
  std::vector<int16_t> x(1000);
  for (int i = 0; i < 1000; ++i) x[i] = static_cast<int16_t>(i * 65 - 32768);
  x[0] = -32768;
  x[999] = 32767;
  std::vector<uint8_t> lo(1000);
  std::vector<int8_t> hi(1000);
  x86::split_int16(x.data(), lo.data(), hi.data(), 3, 1000);
  x86::split_int16(x.data(), lo.data(), hi.data(), 0, 3);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(256 * hi[i] + lo[i], x[i]) << i;
}

// Timing of a ResNet-like layer (1x64x56x56, 3x3, 64 outputs, pad 1), one thread: reference vs split path.
// Disabled by default (run with --gtest_also_run_disabled_tests --gtest_filter=*Speed*).
TEST(QConv16, DISABLED_SpeedResnetLayer) {
  if (!x86::QConvOnednn::types_supported(DType::kU8, DType::kI8, DType::kI32)) GTEST_SKIP();
  set_num_threads(1);
  ref::QConvShape s;
  s.in_channels = s.out_channels = 64;
  s.in[1] = s.in[2] = s.out[1] = s.out[2] = 56;
  s.kernel[1] = s.kernel[2] = 3;
  s.pad_begin[1] = s.pad_begin[2] = 1;
  const int64_t xn = 64 * 56 * 56, yn = xn, wn = 64 * 64 * 9;
  std::mt19937 rng(9);
  std::vector<int16_t> x(xn);
  std::vector<int8_t> w(wn);
  for (auto& e : x) e = static_cast<int16_t>(std::uniform_int_distribution<int>(-32768, 32767)(rng));
  for (auto& e : w) e = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
  std::vector<int32_t> bias(64, 1000);
  std::vector<float> mult(64, 1e-6f);
  std::vector<int16_t> y_ref(yn), y_fast(yn);
  using clk = std::chrono::steady_clock;
  std::vector<int64_t> acc(yn);
  auto t0 = clk::now();
  ref::qconv_s64(DType::kI16, x.data(), 0, DType::kI8, w.data(), nullptr, bias.data(), acc.data(), s, 0, 64);
  ref::requantize_s64(acc.data(), DType::kI16, y_ref.data(), 64, 56 * 56, mult.data(), 0, 0, yn);
  const double ref_ms = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
  for (bool nhwc : {false, true}) {
    x86::QConvOnednnConfig c;
    c.shape = s;
    c.pads_end[1] = c.pads_end[2] = 1;
    c.xt = DType::kI16;
    c.nhwc = nhwc;
    std::unique_ptr<x86::QConv16Onednn> f;
    ASSERT_TRUE(x86::QConv16Onednn::create(c, &f).ok());
    ASSERT_TRUE(f->pack_weights(w.data()).ok());
    std::vector<int16_t> xin = nhwc ? permute(x, 1, 64, 56 * 56, true) : x;
    std::vector<uint8_t> lo(xn);
    std::vector<int8_t> hi(xn);
    std::vector<int32_t> alo(yn), ahi(yn);
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      auto t1 = clk::now();
      x86::split_int16(xin.data(), lo.data(), hi.data(), 0, xn);
      ASSERT_TRUE(f->run(lo.data(), hi.data(), nullptr, alo.data(), ahi.data()).ok());
      x86::requantize_split_s32(alo.data(), ahi.data(), bias.data(), DType::kI16, y_fast.data(), 64, nhwc ? 1 : 56 * 56,
                                mult.data(), 0, 0, yn);
      best = std::min(best, std::chrono::duration<double, std::milli>(clk::now() - t1).count());
    }
    if (nhwc) y_fast = permute(y_fast, 1, 64, 56 * 56, false);
    EXPECT_EQ(std::memcmp(y_ref.data(), y_fast.data(), yn * 2), 0);
    std::cout << "int16 conv 1x64x56x56 3x3x64, 1 thread: reference " << ref_ms << " ms, split oneDNN ("
              << (nhwc ? "NHWC" : "NCHW") << ", " << f->impl_name() << ") " << best << " ms\n";
  }
}

// Timing of the direct kernels against the split path on PP-OCR-det-like layers, one thread.
// Disabled by default (run with --gtest_also_run_disabled_tests --gtest_filter=*Speed*).
TEST(QConv16, DISABLED_SpeedDirect) {
  if (!kernels::cpu_info().avx512vnni) GTEST_SKIP();
  set_num_threads(1);
  std::vector<ConvCase> cs = {
      {2, 1, 192, 192, 1, {1, 40, 40}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {2, 1, 16, 32, 1, {1, 320, 320}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {2, 1, 384, 384, 1, {1, 20, 20}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {2, 1, 48, 48, 48, {1, 160, 160}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {2, 1, 192, 192, 192, {1, 40, 40}, {1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2}, {0, 2, 2}},
      {2, 1, 96, 24, 1, {1, 160, 160}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {2, 1, 3, 16, 1, {1, 640, 640}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
  };
  using clk = std::chrono::steady_clock;
  std::mt19937 rng(5);
  for (const ConvCase& cc : cs) {
    const ref::QConvShape s = shape_of(cc);
    const int64_t xn = s.in_channels * s.in[1] * s.in[2], yn = s.out_channels * s.out[1] * s.out[2];
    std::vector<int16_t> x(xn), y(yn);
    std::vector<int8_t> w(s.out_channels * (s.in_channels / s.group) * s.kernel[1] * s.kernel[2]);
    for (auto& e : x) e = static_cast<int16_t>(std::uniform_int_distribution<int>(-32768, 32767)(rng));
    for (auto& e : w) e = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    std::vector<int32_t> bias(s.out_channels, 1000);
    std::vector<float> mult(s.out_channels, 1e-6f);
    std::unique_ptr<x86::QConv16Direct> d;
    // The 3-channel stem stays on the split path (timed for the record).
    if (x86::QConv16Direct::supported(s)) ASSERT_TRUE(x86::QConv16Direct::create(s, w.data(), &d).ok());
    x86::QConvOnednnConfig c;
    c.shape = s;
    for (int i = 0; i < 3; ++i) c.pads_end[i] = cc.pe[i];
    c.xt = DType::kI16;
    c.nhwc = true;
    std::unique_ptr<x86::QConv16Onednn> f;
    ASSERT_TRUE(x86::QConv16Onednn::create(c, &f).ok());
    ASSERT_TRUE(f->pack_weights(w.data()).ok());
    std::vector<uint8_t> lo(xn);
    std::vector<int8_t> hi(xn);
    std::vector<int32_t> alo(yn), ahi(yn);
    double split = 1e30, direct = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
      auto t0 = clk::now();
      x86::split_int16(x.data(), lo.data(), hi.data(), 0, xn);
      ASSERT_TRUE(f->run(lo.data(), hi.data(), nullptr, alo.data(), ahi.data()).ok());
      x86::requantize_split_s32(alo.data(), ahi.data(), bias.data(), DType::kI16, y.data(), s.out_channels, 1,
                                mult.data(), 0, 0, yn);
      auto t1 = clk::now();
      if (d) d->run(x.data(), bias.data(), mult.data(), 0, DType::kI16, y.data(), 0, d->pixels());
      auto t2 = clk::now();
      split = std::min(split, std::chrono::duration<double, std::milli>(t1 - t0).count());
      direct = std::min(direct, std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    const double macs = static_cast<double>(yn) * (s.in_channels / s.group) * s.kernel[1] * s.kernel[2];
    std::cout << "C" << s.in_channels << " M" << s.out_channels << " " << s.in[1] << "x" << s.in[2] << " k"
              << s.kernel[1] << " g" << s.group << ": split " << split << " ms";
    if (d) std::cout << ", direct " << direct << " ms (" << macs / direct / 1e6 << " GMAC/s)";
    std::cout << (d ? "\n" : " (no direct kernel)\n");
  }
}

}  // namespace
}  // namespace kaiwu::kernels
