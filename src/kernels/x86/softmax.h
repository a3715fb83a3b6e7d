// Optimized f32 softmax (AVX-512 exp; the reference elsewhere). Same maths as ref::softmax_f32 (max-subtracted
// exponentials, then scaled by 1/sum), with float sums over 16 lanes.
#pragma once
#include <cstdint>

namespace kaiwu::kernels::x86 {

// `rows` contiguous rows of n elements, each normalized on its own (softmax over the last axis).
void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n);
// One [n, inner] block normalized along n, for columns [i0, i1) (softmax over an inner axis).
void softmax_cols_f32(const float* x, float* y, int64_t n, int64_t inner, int64_t i0, int64_t i1);

}  // namespace kaiwu::kernels::x86
