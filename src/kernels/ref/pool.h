// Pooling parameters shared by the pooling kernels, and the scalar reference pools (N-d, NCHW or NHWC).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/ref/post_ops.h"

namespace kaiwu::kernels {

// A pooling window over spatial dims (1..3 of them). Output sizes are given (ceil_mode / auto_pad already applied);
// windows start at o * stride - pads_begin; taps outside the input are skipped (max) or, for average with
// count_include_pad, counted while inside [-pads_begin, in + pads_end).
struct PoolParams {
  int64_t batch = 1, channels = 0;
  std::vector<int64_t> in_dims, out_dims, kernel, strides, dilations, pads_begin, pads_end;
  bool count_include_pad = false;
  ActLayout layout = ActLayout::kNCHW;
};

namespace ref {

// Max pooling for T in {float, double, int8_t, uint8_t}. indices (nullable) receive ONNX MaxPool indices: the
// offset of the chosen element in the NCHW-flattened input (spatial part column-major when storage_order_col),
// whatever the layout. Ties keep the first tap in window order.
template <typename T>
void max_pool(const PoolParams& p, const T* x, T* y, int64_t* indices, bool storage_order_col);

// Average pooling (divisor: taps inside the input, or inside the padded input with count_include_pad).
void avg_pool_f32(const PoolParams& p, const float* x, float* y);

// Global pools: y[n, c] = mean / max of x[n, c, :] over `spatial` elements, NCHW or NHWC (max: T in {float, double,
// int8_t, uint8_t}).
void global_avg_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y);
template <typename T>
void global_max_pool(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const T* x, T* y);

}  // namespace ref
}  // namespace kaiwu::kernels
