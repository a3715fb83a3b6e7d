// Direct AVX-512 kernels of the int16 QLinearConv (int16 x of zero point 0, int8 weights of zero point 0, NHWC) for
// the two shapes that dominate mobile vision backbones, where the split path (kernels/x86/qconv16.h: two oneDNN int8
// convolutions with int32 outputs, then a requantization pass) is memory-bound:
//   - pointwise: 1x1 window, stride 1, no padding, one group, C <= kMaxSum. A GEMM over int16 pairs (VNNI vpdpwssd)
//     with the requantization applied to the accumulators in registers.
//   - depthwise: group == C == M, any window (at most kMaxSum taps), stride, dilation and padding. Channels in
//     vectors of 32, taps in pairs (vpmaddwd).
//   - full: any other one-group 2-D convolution with 16 <= C <= kMaxSum: the pointwise GEMM per tap over row pointers
//     (a zero row for padding), partial sums moved from int32 to int64 every kMaxSum / C taps.
// Every product is at most 2^22 in magnitude, so kMaxSum of them fit int32 exactly; the requantization is that of
// ref::requantize_s64 (acc + bias in int64, times the multiplier in double, round half to even, + zero point,
// saturate). Bit-identical to the scalar reference (ref/qconv16.h). Pure: pointers in, pointers out.
#pragma once
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "kaiwu/dtype.h"
#include "kaiwu/status.h"
#include "kernels/ref/qconv.h"

namespace kaiwu::kernels::x86 {

class QConv16Direct {
 public:
  static constexpr int64_t kMaxSum = 511;  // 511 * 2^22 < 2^31
  enum class Kind { kPointwise, kDepthwise, kFull };
  // True when this build has the kernels (AVX-512 with VNNI) and s is a 2-D (or 1-D) shape: pointwise, depthwise, or
  // one group with 16 <= C <= kMaxSum (full: the taps' pointwise products, int32 partial sums moved to int64 every
  // kMaxSum / C taps, so any window stays exact).
  static bool supported(const ref::QConvShape& s);
  // w: [M, C / group, kernel...] int8 of zero point 0, copied and packed.
  static Status create(const ref::QConvShape& s, const int8_t* w, std::unique_ptr<QConv16Direct>* out);
  Kind kind() const { return kind_; }
  // Output pixels (batch x output plane): the unit of run's ranges.
  int64_t pixels() const { return s_.batch * s_.out[1] * s_.out[2]; }
  // y[p, :] for the output pixels p in [begin, end) of NHWC x (int16) into NHWC y (yt: u8 / i8 / i16):
  // y = clamp(rne((double)(conv(x, w) + bias) * mult[m]) + y_zp, lo, hi) with [lo, hi] = yt's range intersected
  // with [y_min, y_max] (a fused Relu / Clip). bias: M or null; mult: M finite multipliers.
  void run(const int16_t* x, const int32_t* bias, const float* mult, int32_t y_zp, DType yt, void* y, int64_t begin,
           int64_t end, int32_t y_min = INT32_MIN, int32_t y_max = INT32_MAX) const;

 private:
  ref::QConvShape s_;
  Kind kind_ = Kind::kPointwise;
  std::vector<int16_t> wp_;  // pointwise / full: [M / 16 blocks][taps][ceil(C / 2)][16 lanes][2]
  std::vector<int16_t> wd_;  // depthwise: [tap pairs][M / 32 blocks][lo, hi][32] (see create)
};

}  // namespace kaiwu::kernels::x86
