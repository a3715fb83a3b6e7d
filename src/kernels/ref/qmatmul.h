// Scalar reference integer matrix products (MatMulInteger, and the accumulation of QLinearMatMul) and the
// per-row / per-column requantization QLinearMatMul needs. Pure: pointers in/out.
#pragma once
#include <cstdint>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

// acc[i, j] = sum_k (a[i, k] - a_zp[i]) * (b[k, j] - b_zp[j]) in int32 for rows i in [row_begin, row_end).
// a: u8/i8 [m, k], b: u8/i8 [k, n], row-major; a_zp: m zero points or null; b_zp: n zero points or null.
void qgemm_s32(DType at, const void* a, const int32_t* a_zp, DType bt, const void* b, const int32_t* b_zp,
               int32_t* acc, int64_t m, int64_t k, int64_t n, int64_t row_begin, int64_t row_end);

// y[i, j] = saturate(round_half_even(float(acc[i, j]) * (a_scale[i] * b_scale[j] / y_scale)) + y_zp) for rows
// [row_begin, row_end), in float like the ONNX reference. a_scale: m scales; b_scale: n scales. yt: u8 or i8.
void requantize_s32_rows_cols(const int32_t* acc, DType yt, void* y, int64_t m, int64_t n, const float* a_scale,
                              const float* b_scale, float y_scale, int32_t y_zp, int64_t row_begin, int64_t row_end);

}  // namespace kaiwu::kernels::ref
