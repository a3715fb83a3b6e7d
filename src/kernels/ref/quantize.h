// Scalar reference kernels for QuantizeLinear / DequantizeLinear and int32 -> int8 requantization.
// Pure: pointers in, pointers out. Semantics follow the ONNX reference implementation bit for bit.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

// x is viewed as [outer, channels, inner] (per-tensor: channels == 1); channel c uses scales[c], zero_points[c].
struct QuantizeLinearParams {
  int64_t channels = 1, inner = 1;
  const float* scales = nullptr;          // `channels` scales (f16 scales are converted by the caller)
  const int32_t* zero_points = nullptr;   // `channels` zero points, or null for 0
  bool scale_is_f16 = false;              // the scale tensor was f16 (an f16 / f16 quotient is rounded to f16)
};

// Calls fn(seg_begin, seg_end, channel) for the runs of the flat elements [begin, end) of an
// [outer, channels, inner] view that share one channel.
template <typename F>
void for_each_channel_segment(int64_t channels, int64_t inner, int64_t begin, int64_t end, F&& fn) {
  int64_t i = begin;
  while (i < end) {
    int64_t row = i / inner;
    int64_t seg_end = std::min(end, (row + 1) * inner);
    fn(i, seg_end, row % channels);
    i = seg_end;
  }
}

// True if quantize_linear handles (xt -> yt): x f32 / f16 / i32, y u8 / i8 / u16 / i16.
bool quantize_linear_supported(DType xt, DType yt);
// y = saturate(round_half_even(x / scale) + zp) for the flat elements [begin, end). The quotient is computed as
// numpy does for the input types: float, rounded to f16 when x and the scale are both f16, double for i32 x. NaN gives zp.
void quantize_linear(DType xt, const void* x, DType yt, void* y, const QuantizeLinearParams& p, int64_t begin,
                     int64_t end);

// True if dequantize_linear handles (xt -> yt): x u8 / i8 / u16 / i16 / i32, y f32 / f16.
bool dequantize_linear_supported(DType xt, DType yt);
// y = (float(x) - float(zp)) * scale for the flat elements [begin, end); f16 outputs are rounded from that float.
void dequantize_linear(DType xt, const void* x, DType yt, void* y, const QuantizeLinearParams& p, int64_t begin,
                       int64_t end);

// Requantization of int32 accumulators, viewed as [outer, channels, inner]:
// y = saturate(round_half_even(float(acc + bias[c]) * multipliers[c]) + zero_point), in float like ONNX
// QLinearConv / QLinearMatMul (NaN products give the zero point). bias may be null. yt: u8 or i8.
// Flat elements [begin, end).
void requantize_s32(const int32_t* acc, const int32_t* bias, DType yt, void* y, int64_t channels, int64_t inner,
                    const float* multipliers, int32_t zero_point, int64_t begin, int64_t end);

}  // namespace kaiwu::kernels::ref
