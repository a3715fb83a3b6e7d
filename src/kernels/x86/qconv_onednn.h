// Integer convolution through oneDNN's int8 primitives (u8/s8 activations, s8 weights, VNNI), for QLinearConv and
// ConvInteger. Two modes:
//  - fused (yt u8/i8): oneDNN computes saturate(round_half_even((acc + bias) * multiplier[m]) + y_zp) with the
//    constant per-channel multipliers baked into the primitive. Measured equal to the reference; the contract is
//    within 1 LSB (float requantization inside oneDNN), checked by tests/kernels/qconv_onednn_test.cc.
//  - raw (yt i32): exact int32 accumulators without bias (ConvInteger, or QLinearConv with run-time scales, whose
//    caller requantizes with x86::requantize_s32 and adds the bias there).
// oneDNN takes only s8 weights with zero point 0, so w - w_zp must be s8: s8 weights with every zero point 0, or u8
// weights with every zero point 128 (shifted to s8). Other combinations stay on the reference (weights_supported).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kaiwu/dtype.h"
#include "kaiwu/status.h"
#include "kernels/ref/qconv.h"

namespace kaiwu::kernels::x86 {

struct QConvOnednnConfig {
  ref::QConvShape shape;
  int nsp = 2;                          // spatial rank 1..3 (right-aligned in shape)
  int64_t pads_end[3] = {0, 0, 0};      // right-aligned like shape.pad_begin
  DType xt = DType::kU8, wt = DType::kI8, yt = DType::kU8;
  std::vector<float> multipliers;       // fused mode: out_channels multipliers
  bool with_bias = false;               // fused mode: an int32 bias is passed to run()
  bool x_zp_is_zero = false;            // x's zero point is known to be 0 (no zero-point compensation needed)
  bool nhwc = false;                    // x and y are channels-last ([N, in..., C] / [N, out..., M])
};

class QConvOnednn {
 public:
  ~QConvOnednn();
  // True if the host and oneDNN can run this configuration's types at all (VNNI, u8/s8).
  static bool types_supported(DType xt, DType wt, DType yt);
  // True if weights of type wt with these m per-channel zero points map onto oneDNN's s8 weights.
  static bool weights_supported(DType wt, const int32_t* w_zp, int64_t m);
  // Creates the primitive; an error (e.g. kUnsupported) means the caller should use the reference.
  static Status create(const QConvOnednnConfig& c, std::unique_ptr<QConvOnednn>* out);
  // Converts and reorders constant weights ([M, C/group, k...]) once; run() may then get w == null.
  Status pack_weights(const void* w);
  // x: [N, C, in...] of xt (channels last when the config says nhwc); w: weights when not packed, else null; bias: M values (fused mode) or null;
  // y: [N, M, out...] of yt. Zero points are scalars.
  Status run(const void* x, int32_t x_zp, const void* w, const int32_t* bias, int32_t y_zp, void* y) const;
  // oneDNN's implementation name, e.g. "jit_int8:avx512_core_vnni".
  const char* impl_name() const;

 private:
  QConvOnednn();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kaiwu::kernels::x86
