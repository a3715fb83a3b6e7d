// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(): false "may be used uninitialized" warnings.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/x86/qconv16.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/ref/qconv16.h"
#include "kernels/x86/onednn_int8.h"

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define KW_QCONV16_AVX512 1
#endif

namespace kaiwu::kernels::x86 {

Status QConv16Onednn::create(const QConvOnednnConfig& c, std::unique_ptr<QConv16Onednn>* out) {
  const ref::QConvShape& s = c.shape;
  if (s.in_channels / s.group * s.kernel[0] * s.kernel[1] * s.kernel[2] > kMaxWindow)
    return unsupported("int16 convolution: window too large for int32 half accumulators");
  QConvOnednnConfig h = c;
  h.yt = DType::kI32;
  h.multipliers.clear();
  h.with_bias = false;
  h.x_zp_is_zero = true;
  std::unique_ptr<QConv16Onednn> k(new QConv16Onednn());
  h.xt = DType::kU8;
  KW_RETURN_IF_ERROR(QConvOnednn::create(h, &k->lo_));
  h.xt = DType::kI8;
  KW_RETURN_IF_ERROR(QConvOnednn::create(h, &k->hi_));
  *out = std::move(k);
  return Status::Ok();
}

Status QConv16Onednn::pack_weights(const void* w) {
  KW_RETURN_IF_ERROR(lo_->pack_weights(w));
  return hi_->pack_weights(w);
}

Status QConv16Onednn::run(const uint8_t* lo, const int8_t* hi, const void* w, int32_t* acc_lo, int32_t* acc_hi) const {
  KW_RETURN_IF_ERROR(lo_->run(lo, 0, w, nullptr, 0, acc_lo));
  return hi_->run(hi, 0, w, nullptr, 0, acc_hi);
}

void* qconv16_scratch(int slot, size_t bytes) { return onednn_int8_scratch(3 + slot, bytes); }

void split_int16(const int16_t* x, uint8_t* lo, int8_t* hi, int64_t begin, int64_t end) {
  int64_t i = begin;
#ifdef KW_QCONV16_AVX512
  const __m512i mask = _mm512_set1_epi16(0xff);
  for (; i + 32 <= end; i += 32) {
    const __m512i v = _mm512_loadu_si512(x + i);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), _mm512_cvtepi16_epi8(_mm512_and_si512(v, mask)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), _mm512_cvtepi16_epi8(_mm512_srai_epi16(v, 8)));
  }
#endif
  for (; i < end; ++i) {
    lo[i] = static_cast<uint8_t>(x[i] & 255);
    hi[i] = static_cast<int8_t>(x[i] >> 8);
  }
}

namespace {

template <typename Y>
void requantize_scalar(const int32_t* acc_lo, const int32_t* acc_hi, const int32_t* bias, Y* y, int64_t channels,
                       int64_t inner, const float* mult, int32_t zp, int64_t begin, int64_t end) {
  constexpr int32_t lo = std::numeric_limits<Y>::lowest(), hi = std::numeric_limits<Y>::max();
  for (int64_t i = begin; i < end; ++i) {
    const int64_t c = (i / inner) % channels;
    const int64_t a = (acc_hi ? static_cast<int64_t>(acc_hi[i]) * 256 : 0) + acc_lo[i] + (bias ? bias[c] : 0);
    y[i] = static_cast<Y>(ref::requantize_one_s64(a, static_cast<double>(mult[c]), zp, lo, hi));
  }
}

#ifdef KW_QCONV16_AVX512
// 8 elements at i (mask k): int64 accumulators -> requantized int32 lanes. vm / vb: multipliers and bias per lane.
inline __m256i requant8(const int32_t* acc_lo, const int32_t* acc_hi, int64_t i, __mmask8 k, __m512i vb, __m512d vm,
                        __m512d vz, __m512d vlo, __m512d vhi) {
  __m512i a = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, acc_lo + i));
  if (acc_hi) a = _mm512_add_epi64(a, _mm512_slli_epi64(_mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, acc_hi + i)), 8));
  a = _mm512_add_epi64(a, vb);
  __m512d r = _mm512_roundscale_pd(_mm512_mul_pd(_mm512_cvtepi64_pd(a), vm), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm512_add_pd(r, vz);
  r = _mm512_min_pd(_mm512_max_pd(r, vlo), vhi);
  return _mm512_cvtpd_epi32(r);
}

template <typename Y>
inline void store8(Y* y, __mmask8 k, __m256i v) {
  if constexpr (sizeof(Y) == 2) _mm256_mask_cvtepi32_storeu_epi16(y, k, v);
  else _mm256_mask_cvtepi32_storeu_epi8(y, k, v);
}

inline __mmask8 mask8(int64_t left) { return left >= 8 ? __mmask8(0xff) : __mmask8((1u << left) - 1); }

template <typename Y>
void requantize_avx512(const int32_t* acc_lo, const int32_t* acc_hi, const int32_t* bias, Y* y, int64_t channels,
                       int64_t inner, const float* mult, int32_t zp, int64_t begin, int64_t end) {
  const __m512d vz = _mm512_set1_pd(zp);
  const __m512d vlo = _mm512_set1_pd(std::numeric_limits<Y>::lowest()), vhi = _mm512_set1_pd(std::numeric_limits<Y>::max());
  int64_t i = begin;
  if (inner > 1) {  // channels-first: runs of one channel
    while (i < end) {
      const int64_t c = (i / inner) % channels;
      const int64_t stop = std::min(end, (i / inner + 1) * inner);
      const __m512d vm = _mm512_set1_pd(static_cast<double>(mult[c]));
      const __m512i vb = _mm512_set1_epi64(bias ? bias[c] : 0);
      for (; i < stop; i += 8) {
        const __mmask8 k = mask8(stop - i);
        store8(y + i, k, requant8(acc_lo, acc_hi, i, k, vb, vm, vz, vlo, vhi));
      }
      i = stop;
    }
    return;
  }
  std::vector<double> md(channels);
  std::vector<int64_t> bd(channels);
  for (int64_t c = 0; c < channels; ++c) {
    md[c] = static_cast<double>(mult[c]);
    bd[c] = bias ? bias[c] : 0;
  }
  while (i < end) {  // channels-last: runs of consecutive channels
    const int64_t c0 = i % channels;
    const int64_t stop = std::min(end, i + (channels - c0));
    for (int64_t c = c0; i < stop; i += 8, c += 8) {
      const __mmask8 k = mask8(stop - i);
      const __m512d vm = _mm512_maskz_loadu_pd(k, md.data() + c);
      const __m512i vb = _mm512_maskz_loadu_epi64(k, bd.data() + c);
      store8(y + i, k, requant8(acc_lo, acc_hi, i, k, vb, vm, vz, vlo, vhi));
    }
    i = stop;
  }
}
#endif

template <typename Y>
void requantize_typed(const int32_t* acc_lo, const int32_t* acc_hi, const int32_t* bias, Y* y, int64_t channels,
                      int64_t inner, const float* mult, int32_t zp, int64_t begin, int64_t end) {
#ifdef KW_QCONV16_AVX512
  requantize_avx512(acc_lo, acc_hi, bias, y, channels, inner, mult, zp, begin, end);
#else
  requantize_scalar(acc_lo, acc_hi, bias, y, channels, inner, mult, zp, begin, end);
#endif
}

}  // namespace

void requantize_split_s32(const int32_t* acc_lo, const int32_t* acc_hi, const int32_t* bias, DType yt, void* y,
                          int64_t channels, int64_t inner, const float* multipliers, int32_t zero_point, int64_t begin,
                          int64_t end) {
  switch (yt) {
    case DType::kU8:
      requantize_typed(acc_lo, acc_hi, bias, static_cast<uint8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
    case DType::kI8:
      requantize_typed(acc_lo, acc_hi, bias, static_cast<int8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
    default:
      requantize_typed(acc_lo, acc_hi, bias, static_cast<int16_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
  }
}

}  // namespace kaiwu::kernels::x86
