// Scalar reference of the "wide" integer convolution of QLinearConv, used when x or y is int16 (the int16 nodes of
// the fixed-point model; int8 weights, int32 bias). int16 x int8 products summed over a large window overflow int32,
// so the accumulation is exact in int64, and the requantization runs in double:
//
//   acc[n, m, o] = bias[m] + sum (x - x_zp) * (w[m] - w_zp[m])                    (int64, exact)
//   y = saturate(round_half_even((double)acc * (double)M[m]) + y_zp)              (NaN -> y_zp)
//
// with M[m] = x_scale * w_scale[m] / y_scale computed in float (as for the int8 QLinearConv). For |acc| < 2^53 the
// conversion to double is exact, so the only rounding is that of the double product. Pure: pointers in/out.
#pragma once
#include <cmath>
#include <cstdint>

#include "kaiwu/dtype.h"
#include "kernels/ref/qconv.h"

namespace kaiwu::kernels::ref {

// acc (int64) of the output planes (n, m) with n * M + m in [plane_begin, plane_end) (NCHW, like qconv_s32).
// x: u8 / i8 / i16 [N, C, in...]; w: u8 / i8 [M, C/group, kernel...]; w_zp: M zero points or null; bias: M or null.
void qconv_s64(DType xt, const void* x, int32_t x_zp, DType wt, const void* w, const int32_t* w_zp,
               const int32_t* bias, int64_t* acc, const QConvShape& s, int64_t plane_begin, int64_t plane_end);

// y[i] = saturate(rne((double)acc[i] * (double)multipliers[c]) + zero_point) for the flat elements [begin, end) of
// acc viewed as [outer, channels, inner] (NCHW: inner = the output plane; NHWC: inner = 1). yt: u8 / i8 / i16.
void requantize_s64(const int64_t* acc, DType yt, void* y, int64_t channels, int64_t inner, const float* multipliers,
                    int32_t zero_point, int64_t begin, int64_t end);

// One element of requantize_s64 (shared with the optimized kernels, which must reproduce it bit for bit).
inline int32_t requantize_one_s64(int64_t acc, double m, int32_t zp, int32_t lo, int32_t hi) {
  double r = std::nearbyint(static_cast<double>(acc) * m);
  if (r != r) r = 0.0;
  r += zp;
  r = r < lo ? lo : (r > hi ? hi : r);
  return static_cast<int32_t>(r);
}

}  // namespace kaiwu::kernels::ref
