// Scalar reference reductions (ReduceSum/Mean/Max) over any set of axes, and ArgMax.
#pragma once
#include <cstdint>
#include <vector>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

enum class ReduceKind { kSum, kMean, kMax };

// y = reduction of x (row-major `shape`) over the dims flagged in `reduced` (same rank). y holds the kept dims in
// order. Floats accumulate in double; integers wrap in their own type (Mean divides with truncation). An empty
// reduction gives 0 (Sum), NaN (float Mean; 0 for integers) or the lowest value (-inf for floats) for Max.
// Supports f32, f64 and the integer types; returns false otherwise.
bool reduce(ReduceKind k, DType dt, const void* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
            void* y);

// x viewed as [outer, n, inner]: y[o, i] = index along n of the largest x[o, :, i] (first of equal maxima, or last
// when select_last). NaN counts as the largest value (numpy). n must be > 0. Numeric dtypes except f16.
bool arg_max(DType dt, const void* x, int64_t outer, int64_t n, int64_t inner, bool select_last, int64_t* y);

}  // namespace kaiwu::kernels::ref
