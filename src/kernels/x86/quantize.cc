#include "kernels/x86/quantize.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define KW_QUANT_AVX512 1
#endif

namespace kaiwu::kernels::x86 {

#ifdef KW_QUANT_AVX512
namespace {

inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }

template <typename T>
inline void store_q(T* y, __mmask16 m, __m512i v) {
  if constexpr (sizeof(T) == 1) _mm512_mask_cvtepi32_storeu_epi8(y, m, v);
  else _mm512_mask_cvtepi32_storeu_epi16(y, m, v);
}

template <typename T>
inline __m512 load_as_f32(const T* x, __mmask16 m) {
  __m512i v;
  if constexpr (std::is_same_v<T, uint8_t>) v = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, x));
  else if constexpr (std::is_same_v<T, int8_t>) v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x));
  else if constexpr (std::is_same_v<T, uint16_t>) v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x));
  else if constexpr (std::is_same_v<T, int16_t>) v = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, x));
  else v = _mm512_maskz_loadu_epi32(m, x);
  return _mm512_cvtepi32_ps(v);
}

// round_half_even(v), NaN -> 0, + zp, clamped to T's range, converted to int32 lanes.
template <typename T>
inline __m512i finish(__m512 v, __m512 vz) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(std::numeric_limits<T>::min()));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(std::numeric_limits<T>::max()));
  __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);
  r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, vz), lo), hi);
  return _mm512_cvtps_epi32(r);
}

template <typename T>
void quantize_seg(const float* x, T* y, int64_t n, float scale, int32_t zp) {
  const __m512 vs = _mm512_set1_ps(scale), vz = _mm512_set1_ps(static_cast<float>(zp));
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i a = finish<T>(_mm512_div_ps(_mm512_loadu_ps(x + i), vs), vz);
    __m512i b = finish<T>(_mm512_div_ps(_mm512_loadu_ps(x + i + 16), vs), vz);
    store_q(y + i, 0xffff, a);
    store_q(y + i + 16, 0xffff, b);
  }
  for (; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    store_q(y + i, m, finish<T>(_mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs), vz));
  }
}

template <typename T>
void dequantize_seg(const T* x, float* y, int64_t n, float scale, int32_t zp) {
  const __m512 vs = _mm512_set1_ps(scale), vz = _mm512_set1_ps(static_cast<float>(zp));
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_sub_ps(load_as_f32(x + i, m), vz), vs));
  }
}

template <typename T>
void requantize_seg(const int32_t* acc, int32_t bias, T* y, int64_t n, float mult, int32_t zp) {
  const __m512 vm = _mm512_set1_ps(mult), vz = _mm512_set1_ps(static_cast<float>(zp));
  const __m512i vb = _mm512_set1_epi32(bias);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512i a = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + i), vb);
    store_q(y + i, m, finish<T>(_mm512_mul_ps(_mm512_cvtepi32_ps(a), vm), vz));
  }
}

template <typename T>
void quantize_typed(const float* x, T* y, const ref::QuantizeLinearParams& p, int64_t begin, int64_t end) {
  ref::for_each_channel_segment(p.channels, p.inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    quantize_seg(x + b, y + b, e - b, p.scales[c], p.zero_points ? p.zero_points[c] : 0);
  });
}

template <typename T>
void dequantize_typed(const T* x, float* y, const ref::QuantizeLinearParams& p, int64_t begin, int64_t end) {
  ref::for_each_channel_segment(p.channels, p.inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    dequantize_seg(x + b, y + b, e - b, p.scales[c], p.zero_points ? p.zero_points[c] : 0);
  });
}

template <typename T>
void requantize_typed(const int32_t* acc, const int32_t* bias, T* y, int64_t channels, int64_t inner,
                      const float* mult, int32_t zp, int64_t begin, int64_t end) {
  ref::for_each_channel_segment(channels, inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    requantize_seg(acc + b, bias ? bias[c] : 0, y + b, e - b, mult[c], zp);
  });
}

}  // namespace

bool quantize_linear_supported(DType xt, DType yt) {
  return xt == DType::kF32 && (yt == DType::kU8 || yt == DType::kI8 || yt == DType::kU16 || yt == DType::kI16);
}

void quantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                     int64_t end) {
  const float* xf = static_cast<const float*>(x);
  switch (yt) {
    case DType::kU8: quantize_typed(xf, static_cast<uint8_t*>(y), p, begin, end); break;
    case DType::kI8: quantize_typed(xf, static_cast<int8_t*>(y), p, begin, end); break;
    case DType::kU16: quantize_typed(xf, static_cast<uint16_t*>(y), p, begin, end); break;
    case DType::kI16: quantize_typed(xf, static_cast<int16_t*>(y), p, begin, end); break;
    default: ref::quantize_linear(xt, x, yt, y, p, begin, end);
  }
}

bool dequantize_linear_supported(DType xt, DType yt) {
  bool x_ok = xt == DType::kU8 || xt == DType::kI8 || xt == DType::kU16 || xt == DType::kI16 || xt == DType::kI32;
  return x_ok && yt == DType::kF32;
}

void dequantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                       int64_t end) {
  float* yf = static_cast<float*>(y);
  switch (xt) {
    case DType::kU8: dequantize_typed(static_cast<const uint8_t*>(x), yf, p, begin, end); break;
    case DType::kI8: dequantize_typed(static_cast<const int8_t*>(x), yf, p, begin, end); break;
    case DType::kU16: dequantize_typed(static_cast<const uint16_t*>(x), yf, p, begin, end); break;
    case DType::kI16: dequantize_typed(static_cast<const int16_t*>(x), yf, p, begin, end); break;
    case DType::kI32: dequantize_typed(static_cast<const int32_t*>(x), yf, p, begin, end); break;
    default: ref::dequantize_linear(xt, x, yt, y, p, begin, end);
  }
}

void requantize_s32(const int32_t* acc, const int32_t* bias, DType yt, void* y, int64_t channels, int64_t inner,
                    const float* multipliers, int32_t zero_point, int64_t begin, int64_t end) {
  if (yt == DType::kU8)
    requantize_typed(acc, bias, static_cast<uint8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
  else
    requantize_typed(acc, bias, static_cast<int8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
}

#else  // no AVX-512: the reference

bool quantize_linear_supported(DType xt, DType yt) { return ref::quantize_linear_supported(xt, yt); }
void quantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                     int64_t end) {
  ref::quantize_linear(xt, x, yt, y, p, begin, end);
}
bool dequantize_linear_supported(DType xt, DType yt) { return ref::dequantize_linear_supported(xt, yt); }
void dequantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                       int64_t end) {
  ref::dequantize_linear(xt, x, yt, y, p, begin, end);
}
void requantize_s32(const int32_t* acc, const int32_t* bias, DType yt, void* y, int64_t channels, int64_t inner,
                    const float* multipliers, int32_t zero_point, int64_t begin, int64_t end) {
  ref::requantize_s32(acc, bias, yt, y, channels, inner, multipliers, zero_point, begin, end);
}

#endif

}  // namespace kaiwu::kernels::x86
