// AVX-512 versions of the fixed-point elementwise kernels (kernels/ref/qelementwise.h), bit-identical to the
// reference (same f32 operations in the same order). Types or hosts they do not cover fall back to the reference.
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/ref/qelementwise.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define KW_QOPS_AVX512 1
#endif

namespace kaiwu::kernels::x86 {

#ifdef KW_QOPS_AVX512
// Shared AVX-512 helpers of the fixed-point kernels (16 int32 / f32 lanes).
namespace qsimd {

inline __mmask16 tail16(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }

// Up to 16 elements of an 8/16-bit integer type widened to int32 lanes (masked-off lanes are 0).
template <typename T>
inline __m512i load_i32(const T* x, __mmask16 m) {
  if constexpr (std::is_same_v<T, uint8_t>) return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, x));
  else if constexpr (std::is_same_v<T, int8_t>) return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x));
  else if constexpr (std::is_same_v<T, int16_t>) return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, x));
  else return _mm512_maskz_loadu_epi32(m, x);
}

// Stores int32 lanes (already in T's range) as T.
template <typename T>
inline void store(T* y, __mmask16 m, __m512i v) {
  if constexpr (sizeof(T) == 1) _mm512_mask_cvtepi32_storeu_epi8(y, m, v);
  else _mm512_mask_cvtepi32_storeu_epi16(y, m, v);
}

// q_finish on 16 lanes: rne (NaN -> 0), + zy, clamp to TY's range, to int32.
template <typename TY>
inline __m512i finish(__m512 v, __m512 vzy) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(std::numeric_limits<TY>::lowest()));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(std::numeric_limits<TY>::max()));
  __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);
  r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, vzy), lo), hi);
  return _mm512_cvtps_epi32(r);
}

}  // namespace qsimd
#endif

// As ref::qbinary (QAdd / QMul over a broadcast plan, flat output range [begin, end)).
void qbinary(DType xt, const void* a, const void* b, DType yt, void* y, const BroadcastPlan& plan,
             const ref::QBinaryParams& p, int64_t begin, int64_t end);
// As ref::requantize.
void requantize(DType xt, const void* x, DType yt, void* y, const ref::RequantizeParams& p, int64_t begin,
                int64_t end);
// As ref::qlut (AVX-512 VBMI byte permutes over the 256-byte table).
void qlut(bool x_signed, const uint8_t* x, const uint8_t* table, uint8_t* y, int64_t begin, int64_t end);
// True when the kernels above have a vector path on this build (else they call the reference).
// As ref::qlut_wide; an int16 x uses AVX-512 gathers, which read up to 4 bytes from each entry: `table` must have
// 4 readable bytes after its last entry.
void qlut_wide(DType xt, const void* x, DType yt, const void* table, void* y, int64_t begin, int64_t end);
bool qelementwise_vectorized();
bool qlut_vectorized();

}  // namespace kaiwu::kernels::x86
