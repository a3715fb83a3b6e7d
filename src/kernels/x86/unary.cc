#include "kernels/x86/unary.h"

#include "kernels/x86/vec_math.h"

namespace kaiwu::kernels::x86 {

#if defined(__AVX512F__)
namespace {

// Applies f to full vectors, then to the tail through a masked load/store (no scalar remainder).
template <typename F>
inline void map512(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    _mm512_storeu_ps(y + i, f(a));
    _mm512_storeu_ps(y + i + 16, f(b));
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace

const char* unary_f32_impl(ref::UnaryKind k) {
  switch (k) {
    case ref::UnaryKind::kExp:
    case ref::UnaryKind::kSigmoid:
    case ref::UnaryKind::kTanh:
    case ref::UnaryKind::kErf:
    case ref::UnaryKind::kSqrt:
    case ref::UnaryKind::kHardSwish:
    case ref::UnaryKind::kHardSigmoid:
    case ref::UnaryKind::kRelu:
    case ref::UnaryKind::kClip: return "avx512";
    default: return "ref";
  }
}

void unary_f32(const float* x, float* y, int64_t n, const ref::UnaryParams& p) {
  using K = ref::UnaryKind;
  switch (p.kind) {
    case K::kExp: map512(x, y, n, [](__m512 v) { return exp512(v); }); return;
    case K::kSigmoid: map512(x, y, n, [](__m512 v) { return sigmoid512(v); }); return;
    case K::kTanh: map512(x, y, n, [](__m512 v) { return tanh512(v); }); return;
    case K::kErf: map512(x, y, n, [](__m512 v) { return erf512(v); }); return;
    case K::kSqrt: map512(x, y, n, [](__m512 v) { return _mm512_sqrt_ps(v); }); return;
    case K::kRelu: {
      // x > 0 ? x : 0, exactly as the reference (NaN gives 0).
      const __m512 zero = _mm512_setzero_ps();
      map512(x, y, n, [zero](__m512 v) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v); });
      return;
    }
    case K::kClip: {
      const __m512 lo = _mm512_set1_ps(p.alpha), hi = _mm512_set1_ps(p.beta);
      // Same as std::min(std::max(x, lo), hi): NaN stays NaN.
      map512(x, y, n, [lo, hi](__m512 v) {
        __m512 a = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
        return _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(hi, a, _CMP_LT_OQ), hi);
      });
      return;
    }
    case K::kHardSigmoid: {
      const __m512 a = _mm512_set1_ps(p.alpha), b = _mm512_set1_ps(p.beta);
      const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
      map512(x, y, n, [=](__m512 v) { return _mm512_max_ps(zero, _mm512_min_ps(one, _mm512_fmadd_ps(a, v, b))); });
      return;
    }
    case K::kHardSwish: {
      const __m512 sixth = _mm512_set1_ps(1.f / 6.f), half = _mm512_set1_ps(0.5f);
      const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
      map512(x, y, n, [=](__m512 v) {
        return _mm512_mul_ps(v, _mm512_max_ps(zero, _mm512_min_ps(one, _mm512_fmadd_ps(v, sixth, half))));
      });
      return;
    }
    default: ref::unary_f32(x, y, n, p);
  }
}

#else  // no AVX-512: the reference

const char* unary_f32_impl(ref::UnaryKind) { return "ref"; }
void unary_f32(const float* x, float* y, int64_t n, const ref::UnaryParams& p) { ref::unary_f32(x, y, n, p); }

#endif

}  // namespace kaiwu::kernels::x86
