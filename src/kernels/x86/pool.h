// Optimized f32 (and int8 / uint8 max) pooling (NCHW or NHWC): separable 2-D max/average pooling and global pools, parallel over
// independent planes/rows (results do not depend on the thread count).
#pragma once
#include <cstdint>

#include "kernels/ref/pool.h"

namespace kaiwu::kernels::x86 {

// 1-D or 2-D max pooling without indices; false (nothing written) for other ranks.
bool max_pool_f32(const PoolParams& p, const float* x, float* y);
// 1-D or 2-D int8 / uint8 max pooling without indices (same rules as the f32 one); false for other ranks.
bool max_pool_i8(const PoolParams& p, const int8_t* x, int8_t* y);
bool max_pool_u8(const PoolParams& p, const uint8_t* x, uint8_t* y);
// 1-D or 2-D average pooling; false (nothing written) for other ranks.
bool avg_pool_f32(const PoolParams& p, const float* x, float* y);
// y[n, c] = mean / max over the `spatial` elements of plane (n, c).
void global_avg_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y);
void global_max_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y);

}  // namespace kaiwu::kernels::x86
