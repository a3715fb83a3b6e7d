// Scalar reference integer convolution (ConvInteger, and the accumulation of QLinearConv). Pure: pointers in/out.
#pragma once
#include <cstdint>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

// NCHW geometry with the spatial dims right-aligned into 3 (missing leading dims are 1, stride/dilation 1, pad 0).
struct QConvShape {
  int64_t batch = 1, in_channels = 1, out_channels = 1, group = 1;
  int64_t in[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1}, pad_begin[3] = {0, 0, 0};
};

// acc[n, m, o] = bias[m] + sum over c in m's group and the kernel window of (x - x_zp) * (w[m] - w_zp[m]), in int32
// (padding contributes 0, as the real value 0 is x_zp). x: u8/i8 [N, C, in...]; w: u8/i8 [M, C/group, kernel...];
// w_zp: M zero points or null (0); bias: M values or null. Computes the output planes (n, m) with
// n * M + m in [plane_begin, plane_end).
void qconv_s32(DType xt, const void* x, int32_t x_zp, DType wt, const void* w, const int32_t* w_zp,
               const int32_t* bias, int32_t* acc, const QConvShape& s, int64_t plane_begin, int64_t plane_end);

}  // namespace kaiwu::kernels::ref
