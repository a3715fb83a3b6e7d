// Scalar reference softmax: x viewed as [outer, n, inner], normalized along n: exp(x - max) / sum(exp(x - max)).
#pragma once
#include <cstdint>

namespace kaiwu::kernels::ref {

// y may alias x. Sums accumulate in double.
void softmax_f32(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void softmax_f64(const double* x, double* y, int64_t outer, int64_t n, int64_t inner);

}  // namespace kaiwu::kernels::ref
