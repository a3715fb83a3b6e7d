// Optimized fixed-point pools (kernels/ref/qpool.h), bit-identical to the reference: int32 sums vectorized over
// channels (NHWC) or along rows (NCHW), AVX-512 scaling, parallel over independent outputs.
#pragma once
#include <cstdint>

#include "kernels/ref/qpool.h"

namespace kaiwu::kernels::x86 {

// As ref::qglobal_avg_pool.
void qglobal_avg_pool(DType xt, const void* x, DType yt, void* y, int64_t batch, int64_t channels, int64_t spatial,
                      ActLayout layout, const QPoolQuant& q);
// As ref::qavg_pool for 1-D / 2-D windows; false (nothing written) for other ranks.
bool qavg_pool(DType xt, const void* x, DType yt, void* y, const PoolParams& p, const QPoolQuant& q);

}  // namespace kaiwu::kernels::x86
