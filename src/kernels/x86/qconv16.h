// Fast exact int16 QLinearConv (int16 x, int8 weights): x = hi * 256 + lo with lo = x & 255 (u8) and hi = x >> 8
// (s8), so conv(x, w) = 256 * conv(hi, w) + conv(lo, w). Both halves run as oneDNN int8 convolutions in raw int32
// mode (kernels/x86/qconv_onednn.h; each half's accumulator fits int32 for windows of up to kMaxWindow taps), then one AVX-512 pass forms acc = 256 * acc_hi + acc_lo + bias in int64 and requantizes it exactly
// like ref::requantize_s64 (bit-identical to the scalar reference, ref/qconv16.h).
#pragma once
#include <cstdint>
#include <memory>

#include "kaiwu/dtype.h"
#include "kaiwu/status.h"
#include "kernels/x86/qconv_onednn.h"

namespace kaiwu::kernels::x86 {

class QConv16Onednn {
 public:
  // Largest C/group * kernel window for which 255 * 128 * window fits int32.
  static constexpr int64_t kMaxWindow = 65535;
  // c: the geometry, wt and nhwc (xt / yt / multipliers are ignored: the halves are u8 / s8 with s32 outputs).
  static Status create(const QConvOnednnConfig& c, std::unique_ptr<QConv16Onednn>* out);
  Status pack_weights(const void* w);
  // acc_lo / acc_hi (int32, the output's size and layout) = conv(lo, w), conv(hi, w) with lo / hi the halves of an
  // int16 x of zero point 0 (split_int16); w null when packed.
  Status run(const uint8_t* lo, const int8_t* hi, const void* w, int32_t* acc_lo, int32_t* acc_hi) const;
  const char* impl_name() const { return lo_->impl_name(); }

 private:
  std::unique_ptr<QConvOnednn> lo_, hi_;
};

// Per-thread scratch for one run (valid until the next call with the same slot on this thread): slot 0 the split
// halves, 1 and 2 the accumulators.
void* qconv16_scratch(int slot, size_t bytes);

// lo[i] = x[i] & 255, hi[i] = x[i] >> 8 for i in [begin, end).
void split_int16(const int16_t* x, uint8_t* lo, int8_t* hi, int64_t begin, int64_t end);

// y[i] = as ref::requantize_s64 of acc = (acc_hi ? 256 * (int64)acc_hi[i] : 0) + acc_lo[i] + (bias ? bias[c] : 0),
// over the flat elements [begin, end) of [outer, channels, inner] (inner = 1 for channels-last). yt: u8 / i8 / i16.
// Multipliers must be finite.
void requantize_split_s32(const int32_t* acc_lo, const int32_t* acc_hi, const int32_t* bias, DType yt, void* y,
                          int64_t channels, int64_t inner, const float* multipliers, int32_t zero_point, int64_t begin,
                          int64_t end);

}  // namespace kaiwu::kernels::x86
