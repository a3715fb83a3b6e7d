// AVX-512 polynomial approximations of exp, sigmoid, tanh and erf (within 1e-6 relative of the std:: float
// functions, see tests/kernels/unary_x86_test.cc). Only available when compiled with AVX-512F.
#pragma once
#if defined(__AVX512F__)
// GCC 12 warns falsely about the undefined pass-through operand inside the AVX-512 intrinsics it inlines.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace kaiwu::kernels::x86 {

// e^x: x = n*ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, then scaling by 2^n (scalef handles
// overflow to inf and gradual underflow). NaN propagates.
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-104.f), x);  // operand order keeps NaN
  x = _mm512_min_ps(_mm512_set1_ps(89.f), x);
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(p, n);
}

// 1 / (1 + e^-x).
inline __m512 sigmoid512(__m512 x) {
  __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_add_ps(_mm512_set1_ps(1.f), e));
}

// tanh: odd polynomial for |x| < 0.625, else sign(x) * (1 - 2 / (e^{2|x|} + 1)).
inline __m512 tanh512(__m512 x) {
  const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x80000000));
  __m512 ax = _mm512_andnot_ps(sign_mask, x);
  __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
  __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
  __m512 e = exp512(_mm512_add_ps(ax, ax));
  __m512 big =
      _mm512_sub_ps(_mm512_set1_ps(1.f), _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, _mm512_set1_ps(1.f))));
  big = _mm512_or_ps(big, _mm512_and_ps(x, sign_mask));
  __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
  __m512 y = _mm512_mask_blend_ps(is_small, big, small);
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, y, x);
}

// erf: x * P(x^2) for |x| < 1, else sign(x) * (1 - e^{-x^2} * Q(1/|x|)) with |x| clamped to 4 (erf(4) == 1f).
// P and Q are least-squares fits made for Kaiwu (max relative error about 2e-7 in float).
inline __m512 erf512(__m512 x) {
  const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x80000000));
  __m512 ax = _mm512_min_ps(_mm512_andnot_ps(sign_mask, x), _mm512_set1_ps(4.f));
  __m512 z = _mm512_mul_ps(ax, ax);
  __m512 p = _mm512_set1_ps(8.006842e-05f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-0.0008053741f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.005192957f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-0.026856069f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.112836346f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-0.3761263f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.1283792f));
  __m512 small = _mm512_mul_ps(p, ax);
  __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), ax);
  __m512 q = _mm512_set1_ps(-0.018275469541549683f);
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(0.12281397730112076f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-0.35854968428611755f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(0.5804157853126526f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-0.5087228417396545f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(0.05197613686323166f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(0.557562530040741f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(0.00036322459345683455f));
  __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), z));
  __m512 big = _mm512_fnmadd_ps(e, q, _mm512_set1_ps(1.f));
  __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(1.f), _CMP_LT_OQ);
  __m512 y = _mm512_mask_blend_ps(is_small, big, small);
  y = _mm512_or_ps(y, _mm512_and_ps(x, sign_mask));
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, y, x);
}

// Horizontal sum / max of 16 lanes (fixed order: deterministic).
inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }
inline float hmax512(__m512 v) { return _mm512_reduce_max_ps(v); }

}  // namespace kaiwu::kernels::x86
#endif
