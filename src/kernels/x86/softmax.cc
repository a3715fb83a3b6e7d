#include "kernels/x86/softmax.h"

#include <cmath>

#include "kernels/ref/softmax.h"
#include "kernels/x86/vec_math.h"

namespace kaiwu::kernels::x86 {

#if defined(__AVX512F__)

namespace {
inline __mmask16 tail_mask(int64_t r) { return static_cast<__mmask16>((1u << r) - 1); }
}  // namespace

void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n) {
  if (n <= 0) return;
  for (int64_t row = 0; row < rows; ++row) {
    const float* px = x + row * n;
    float* py = y + row * n;
    const int64_t nv = n / 16 * 16;
    const __mmask16 tm = tail_mask(n - nv);
    __m512 vm = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < nv; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(px + i));
    if (tm) vm = _mm512_mask_max_ps(vm, tm, vm, _mm512_maskz_loadu_ps(tm, px + nv));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
    __m512 vs = _mm512_setzero_ps();
    for (int64_t i = 0; i < nv; i += 16) {
      __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(px + i), m));
      _mm512_storeu_ps(py + i, e);
      vs = _mm512_add_ps(vs, e);
    }
    if (tm) {
      __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tm, px + nv), m));
      _mm512_mask_storeu_ps(py + nv, tm, e);
      vs = _mm512_mask_add_ps(vs, tm, vs, e);
    }
    const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(vs));
    for (int64_t i = 0; i < nv; i += 16) _mm512_storeu_ps(py + i, _mm512_mul_ps(_mm512_loadu_ps(py + i), inv));
    if (tm) _mm512_mask_storeu_ps(py + nv, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, py + nv), inv));
  }
}

void softmax_cols_f32(const float* x, float* y, int64_t n, int64_t inner, int64_t i0, int64_t i1) {
  if (n <= 0) return;
  for (int64_t c = i0; c < i1; c += 16) {
    const __mmask16 k = c + 16 <= i1 ? static_cast<__mmask16>(0xffff) : tail_mask(i1 - c);
    __m512 m = _mm512_maskz_loadu_ps(k, x + c);
    for (int64_t j = 1; j < n; ++j) m = _mm512_max_ps(m, _mm512_maskz_loadu_ps(k, x + j * inner + c));
    __m512 s = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
      __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j * inner + c), m));
      _mm512_mask_storeu_ps(y + j * inner + c, k, e);
      s = _mm512_add_ps(s, e);
    }
    const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.f), s);
    for (int64_t j = 0; j < n; ++j) {
      float* p = y + j * inner + c;
      _mm512_mask_storeu_ps(p, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, p), inv));
    }
  }
}

#else  // no AVX-512: the reference

void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n) { ref::softmax_f32(x, y, rows, n, 1); }

void softmax_cols_f32(const float* x, float* y, int64_t n, int64_t inner, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    float m = x[i], s = 0.f;
    for (int64_t j = 1; j < n; ++j) m = x[j * inner + i] > m ? x[j * inner + i] : m;
    for (int64_t j = 0; j < n; ++j) s += (y[j * inner + i] = std::exp(x[j * inner + i] - m));
    for (int64_t j = 0; j < n; ++j) y[j * inner + i] /= s;
  }
}

#endif

}  // namespace kaiwu::kernels::x86
