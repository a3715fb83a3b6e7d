// Differential tests: oneDNN int8 convolution against the scalar reference over odd shapes (1-D/2-D/3-D, groups,
// depthwise, strides, dilations, asymmetric pads), u8/s8 activations, s8 and u8 (zero point 128) weights, with and
// without activation zero points and bias, fused requantization and raw int32 output, packed and run-time weights.
// Raw int32 results must be identical; fused requantized results within 1 LSB (oneDNN requantizes in float; the
// number of differing elements is printed, and has been 0 on the development machine).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <vector>

#include "kernels/ref/qconv.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/qconv_onednn.h"

namespace kaiwu::kernels {
namespace {

struct ConvCase {
  int nsp;
  int64_t n, c, m, group;
  int64_t in[3], k[3], stride[3], dil[3], pb[3], pe[3];
};

std::vector<ConvCase> cases() {
  // Spatial arrays are right-aligned (1-D uses index 2, 2-D uses 1..2).
  return {
      {2, 1, 3, 8, 1, {1, 11, 13}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {2, 2, 16, 32, 1, {1, 9, 9}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 1}, {0, 1, 0}},
      {2, 1, 32, 32, 32, {1, 10, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},   // depthwise
      {2, 1, 24, 36, 1, {1, 7, 9}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},      // 1x1
      {2, 1, 8, 16, 2, {1, 12, 12}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 2}, {0, 2, 2}},     // dilated, grouped
      {2, 1, 64, 17, 1, {1, 6, 5}, {1, 5, 3}, {1, 1, 2}, {1, 1, 1}, {0, 2, 0}, {0, 2, 1}},      // odd M
      {2, 1, 48, 48, 48, {1, 14, 14}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 1, 1}},   // dw stride 2
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

struct Variant {
  DType xt, wt, yt;
  bool x_zp_zero, bias, fused, packed;
};

TEST(QConvOnednn, MatchesReference) {
  if (!x86::QConvOnednn::types_supported(DType::kU8, DType::kI8, DType::kU8)) GTEST_SKIP() << "no AVX-512 VNNI";
  const Variant variants[] = {
      {DType::kU8, DType::kI8, DType::kU8, false, true, true, true},
      {DType::kI8, DType::kI8, DType::kI8, true, true, true, true},
      {DType::kU8, DType::kU8, DType::kU8, false, false, true, false},
      {DType::kI8, DType::kI8, DType::kU8, false, true, true, false},
      {DType::kU8, DType::kI8, DType::kI32, false, false, false, true},
      {DType::kI8, DType::kU8, DType::kI32, false, false, false, false},
      {DType::kU8, DType::kI8, DType::kI32, true, false, false, true},
  };
  std::mt19937 rng(123);
  int64_t compared = 0, off_by_one = 0;
  for (const ConvCase& cc : cases()) {
    const ref::QConvShape s = shape_of(cc);
    const int64_t x_n = s.batch * s.in_channels * s.in[0] * s.in[1] * s.in[2];
    const int64_t w_n = s.out_channels * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
    const int64_t plane = s.out[0] * s.out[1] * s.out[2], y_n = s.batch * s.out_channels * plane;
    for (const Variant& v : variants) {
      std::vector<uint8_t> x(x_n), w(w_n);
      for (auto& e : x) e = static_cast<uint8_t>(rng());
      for (auto& e : w) e = static_cast<uint8_t>(rng());
      const int32_t x_zp = v.x_zp_zero ? 0 : (v.xt == DType::kU8 ? 113 : -9);
      std::vector<int32_t> w_zp(s.out_channels, v.wt == DType::kU8 ? 128 : 0);
      std::vector<int32_t> bias(s.out_channels);
      for (auto& b : bias) b = static_cast<int32_t>(rng() % 40001) - 20000;
      // Reference accumulators (without bias, as the raw mode returns them).
      std::vector<int32_t> acc(y_n);
      ref::qconv_s32(v.xt, x.data(), x_zp, v.wt, w.data(), w_zp.data(), nullptr, acc.data(), s, 0,
                     s.batch * s.out_channels);
      x86::QConvOnednnConfig c;
      c.shape = s;
      c.nsp = cc.nsp;
      for (int i = 0; i < 3; ++i) c.pads_end[i] = cc.pe[i];
      c.xt = v.xt;
      c.wt = v.wt;
      c.yt = v.yt;
      c.x_zp_is_zero = v.x_zp_zero;
      c.with_bias = v.fused && v.bias;
      if (v.fused) {  // multipliers spreading each channel over the output range (with some saturation)
        for (int64_t m = 0; m < s.out_channels; ++m) {
          int64_t mx = 1;
          for (int64_t i = 0; i < y_n; ++i)
            if ((i / plane) % s.out_channels == m) mx = std::max<int64_t>(mx, std::llabs(acc[i]));
          c.multipliers.push_back(static_cast<float>((0.6 + (rng() % 1000) / 1000.0) * 160.0 / mx));
        }
      }
      std::unique_ptr<x86::QConvOnednn> k;
      Status st = x86::QConvOnednn::create(c, &k);
      ASSERT_TRUE(st.ok()) << st.to_string();
      if (v.packed) {
        ASSERT_TRUE(k->pack_weights(w.data()).ok());
      }
      const int32_t y_zp = v.yt == DType::kU8 ? 130 : -4;
      std::vector<uint8_t> y(y_n * dtype_size(v.yt));
      st = k->run(x.data(), x_zp, v.packed ? nullptr : w.data(), c.with_bias ? bias.data() : nullptr, y_zp, y.data());
      ASSERT_TRUE(st.ok()) << st.to_string();
      if (!v.fused) {
        const int32_t* got = reinterpret_cast<const int32_t*>(y.data());
        for (int64_t i = 0; i < y_n; ++i) ASSERT_EQ(got[i], acc[i]) << "case " << cc.c << "x" << cc.m << " i=" << i;
        continue;
      }
      std::vector<uint8_t> want(y_n);
      ref::requantize_s32(acc.data(), c.with_bias ? bias.data() : nullptr, v.yt, want.data(), s.out_channels, plane,
                          c.multipliers.data(), y_zp, 0, y_n);
      for (int64_t i = 0; i < y_n; ++i) {
        int a = v.yt == DType::kU8 ? y[i] : static_cast<int8_t>(y[i]);
        int b = v.yt == DType::kU8 ? want[i] : static_cast<int8_t>(want[i]);
        ASSERT_LE(std::abs(a - b), 1) << "case " << cc.c << "x" << cc.m << " impl " << k->impl_name() << " i=" << i;
        ++compared;
        if (a != b) ++off_by_one;
      }
    }
  }
  std::cout << "[qconv_onednn] fused requantization: " << off_by_one << " of " << compared
            << " outputs differ by 1 LSB from the reference\n";
  EXPECT_GT(compared, 10000);
}

TEST(QConvOnednn, WeightsSupported) {
  const int32_t zero[3] = {0, 0, 0}, mid[3] = {128, 128, 128}, mixed[3] = {0, 1, 0};
  EXPECT_TRUE(x86::QConvOnednn::weights_supported(DType::kI8, zero, 3));
  EXPECT_TRUE(x86::QConvOnednn::weights_supported(DType::kI8, nullptr, 3));
  EXPECT_FALSE(x86::QConvOnednn::weights_supported(DType::kI8, mixed, 3));
  EXPECT_TRUE(x86::QConvOnednn::weights_supported(DType::kU8, mid, 3));
  EXPECT_FALSE(x86::QConvOnednn::weights_supported(DType::kU8, zero, 3));
}

}  // namespace
}  // namespace kaiwu::kernels
