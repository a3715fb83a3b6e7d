// Matrix-multiplication parameters shared by the MatMul/Gemm kernels, and the scalar reference.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ref/post_ops.h"

namespace kaiwu::kernels {

// y[batch..., m, n] = post_ops(alpha * sum_k A[.., m, k] * B[.., k, n] + bias[m|0, n|0]).
// Batch dims (numpy broadcasting): a_batch and b_batch have the same length and each pair of dims is equal or
// contains a 1; y's batch dims are the maxima. A is stored [.., M, K] ([.., K, M] with trans_a), B [.., K, N]
// ([.., N, K] with trans_b), all row-major and contiguous. bias is [bias_m, bias_n] with bias_m in {1, M} and
// bias_n in {1, N}, shared by every batch.
struct MatmulParams {
  std::vector<int64_t> a_batch, b_batch;
  int64_t m = 0, k = 0, n = 0;
  bool trans_a = false, trans_b = false;
  float alpha = 1.f;
  bool has_bias = false;
  int64_t bias_m = 1, bias_n = 1;
  std::vector<PostOp> post_ops;  // eltwise only, or kSum (y holds the summand on entry)

  std::vector<int64_t> out_batch() const;
  int64_t batch_count() const;  // product of out_batch()
  std::string describe() const;
};

namespace ref {

// The reference: double accumulation (int64 for integer types), post-ops for float only.
template <typename T>
void matmul(const MatmulParams& p, const T* a, const T* b, const T* bias, T* y);

}  // namespace ref
}  // namespace kaiwu::kernels
