// Optimized f32 reductions for the layouts models use: after merging neighbouring dims, one reduced block between
// kept blocks, i.e. x viewed as [outer, n, inner]. inner == 1 (last axes, e.g. global pooling written as
// ReduceMean) sums contiguous rows with 16 lanes; inner > 1 accumulates whole rows of `inner` at once. Each
// output is computed by one thread in a fixed order (deterministic).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/ref/reduce.h"

namespace kaiwu::kernels::x86 {

// Same contract as ref::reduce for f32; returns false (nothing written) when the reduced dims do not form one
// block after merging, so the caller uses the reference.
bool reduce_f32(ref::ReduceKind k, const float* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
                float* y);

}  // namespace kaiwu::kernels::x86
