// Scalar reference kernels of the kaiwu fixed-point pools (QGlobalAveragePool, QAveragePool), NCHW or NHWC.
// Integer sums are exact (int32); the final scaling follows the rounding contract of kernels/ref/qelementwise.h.
#pragma once
#include <cstdint>

#include "kaiwu/dtype.h"
#include "kernels/ref/pool.h"

namespace kaiwu::kernels {

// Quantization of a pool's input and output (per tensor).
struct QPoolQuant {
  int32_t zx = 0, zy = 0;
  float x_scale = 1.f, y_scale = 1.f;
};

// The multiplier x_scale / (y_scale * f32(count)) used for a window of `count` taps.
inline float qpool_multiplier(const QPoolQuant& q, int64_t count) {
  const float den = q.y_scale * static_cast<float>(count);
  return q.x_scale / den;
}

namespace ref {

// y[n, c] = sat(rne(f32(sum_s x[n, c, s] - spatial * zx) * qpool_multiplier(q, spatial)) + zy); x / y of dtype
// xt / yt in {i8, u8, i16}; spatial = H * W (0 gives zy).
void qglobal_avg_pool(DType xt, const void* x, DType yt, void* y, int64_t batch, int64_t channels, int64_t spatial,
                      ActLayout layout, const QPoolQuant& q);

// Average pooling (1..3 spatial dims, p.layout): per output, sum = sum over the taps inside the input of (x - zx)
// (int32), count = taps inside the input, or inside the padded input with p.count_include_pad;
// y = sat(rne(f32(sum) * qpool_multiplier(q, count)) + zy); a window with count 0 gives sat(zy).
void qavg_pool(DType xt, const void* x, DType yt, void* y, const PoolParams& p, const QPoolQuant& q);

}  // namespace ref
}  // namespace kaiwu::kernels
