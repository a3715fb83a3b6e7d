// Matrix-vector product for batch-1 fully connected layers and 1x1 convolutions on 1x1 maps (classifier heads,
// squeeze-excitation blocks), where a general GEMM is dominated by overhead: y = post_ops(W x + b).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/ref/post_ops.h"

namespace kaiwu::kernels::x86 {

struct GemvParams {
  int64_t k = 0;  // input length
  int64_t n = 0;  // output length
  std::vector<PostOp> post_ops;  // elementwise only (no kSum)
};

// y[j] = post_ops(sum_i w[j * k + i] * x[i] + (bias ? bias[j] : 0)) for j in [0, n). W is row-major [n, k].
// Parallel over fixed blocks of outputs: the result does not depend on the thread count.
void gemv_f32(const GemvParams& p, const float* x, const float* w, const float* bias, float* y);

}  // namespace kaiwu::kernels::x86
