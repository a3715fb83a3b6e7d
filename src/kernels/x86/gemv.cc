#include "kernels/x86/gemv.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {
namespace {

// Dot products of rows j0..j0+3 of w with x; the same summation order for every row count and thread count.
inline void dot4(const float* x, const float* w, int64_t k, int rows, float* out) {
#if defined(__AVX512F__)
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 xv = _mm512_loadu_ps(x + i);
    for (int r = 0; r < rows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * k + i), xv, acc[r]);
  }
  if (i < k) {
    __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1);
    __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
    for (int r = 0; r < rows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + r * k + i), xv, acc[r]);
  }
  for (int r = 0; r < rows; ++r) out[r] = _mm512_reduce_add_ps(acc[r]);
#else
  for (int r = 0; r < rows; ++r) {
    float lanes[16] = {0};
    for (int64_t i = 0; i < k; ++i) lanes[i % 16] += w[r * k + i] * x[i];
    float s = 0;
    for (float v : lanes) s += v;
    out[r] = s;
  }
#endif
}

}  // namespace

void gemv_f32(const GemvParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t k = p.k;
  parallel_for(p.n, 64, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; j += 4) {
      int rows = static_cast<int>(e - j < 4 ? e - j : 4);
      float d[4];
      dot4(x, w + j * k, k, rows, d);
      for (int r = 0; r < rows; ++r) {
        float v = d[r] + (bias ? bias[j + r] : 0.f);
        for (const PostOp& op : p.post_ops) v = ref::apply_eltwise(op, v);
        y[j + r] = v;
      }
    }
  });
}

}  // namespace kaiwu::kernels::x86
