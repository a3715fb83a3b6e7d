// GCC 12 reports false "uninitialized" warnings inside the AVX-512 masked-load intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/x86/qelementwise.h"

namespace kaiwu::kernels::x86 {

#ifdef KW_QOPS_AVX512
namespace {
using namespace qsimd;

// One broadcast row: y[k] = op(a[k * as], b[k * bs]) for k < n, as / bs in {0, 1}.
template <typename TX, typename TY, bool kMul>
void qbinary_row(const TX* a, int64_t as, const TX* b, int64_t bs, TY* y, int64_t n, const ref::QBinaryParams& p) {
  const __m512i vza = _mm512_set1_epi32(p.za), vzb = _mm512_set1_epi32(p.zb);
  const __m512 vma = _mm512_set1_ps(p.ma), vmb = _mm512_set1_ps(p.mb), vm = _mm512_set1_ps(p.m);
  const __m512 vzy = _mm512_set1_ps(static_cast<float>(p.zy));
  const __m512i ca = _mm512_set1_epi32(static_cast<int32_t>(a[0])), cb = _mm512_set1_epi32(static_cast<int32_t>(b[0]));
  auto step = [&](int64_t i, __mmask16 m) {
    __m512i ia = _mm512_sub_epi32(as ? load_i32(a + i, m) : ca, vza);
    __m512i ib = _mm512_sub_epi32(bs ? load_i32(b + i, m) : cb, vzb);
    __m512 v;
    if constexpr (kMul && std::is_same_v<TX, int16_t>) {
#ifdef __AVX512DQ__
      // 16-bit operands: the product may not fit int32, so it is formed in int64 and converted to f32 like the
      // reference's static_cast<float>(int64) (round to nearest), 8 lanes at a time.
      const __m512i alo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(ia));
      const __m512i ahi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(ia, 1));
      const __m512i blo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(ib));
      const __m512i bhi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(ib, 1));
      const __m256 plo = _mm512_cvtepi64_ps(_mm512_mullo_epi64(alo, blo));
      const __m256 phi = _mm512_cvtepi64_ps(_mm512_mullo_epi64(ahi, bhi));
      v = _mm512_mul_ps(_mm512_insertf32x8(_mm512_castps256_ps512(plo), phi, 1), vm);
#endif
    } else if constexpr (kMul) {
      v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(ia, ib)), vm);
    } else {
      v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia), vma, _mm512_mul_ps(_mm512_cvtepi32_ps(ib), vmb));
    }
    store(y + i, m, finish<TY>(v, vzy));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) step(i, 0xffff);
  if (i < n) step(i, tail16(n - i));
}

template <typename TX, typename TY>
void qbinary_t(const TX* a, const TX* b, TY* y, const BroadcastPlan& plan, const ref::QBinaryParams& p, int64_t begin,
               int64_t end) {
  for_each_broadcast_row(plan, begin, end, [&](int64_t ao, int64_t as, int64_t bo, int64_t bs, int64_t yo, int64_t n) {
    if (p.mul) qbinary_row<TX, TY, true>(a + ao, as, b + bo, bs, y + yo, n, p);
    else qbinary_row<TX, TY, false>(a + ao, as, b + bo, bs, y + yo, n, p);
  });
}

template <typename TX, typename TY>
void requantize_t(const TX* x, TY* y, const ref::RequantizeParams& p, int64_t begin, int64_t end) {
  const __m512i vzx = _mm512_set1_epi32(p.zx);
  const __m512 vm = _mm512_set1_ps(p.m), vzy = _mm512_set1_ps(static_cast<float>(p.zy));
  auto step = [&](int64_t i, __mmask16 m) {
    __m512 d = _mm512_cvtepi32_ps(_mm512_sub_epi32(load_i32(x + i, m), vzx));
    store(y + i, m, finish<TY>(_mm512_mul_ps(d, vm), vzy));
  };
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) step(i, 0xffff);
  if (i < end) step(i, tail16(end - i));
}

}  // namespace
#endif

bool qelementwise_vectorized() {
#ifdef KW_QOPS_AVX512
  return true;
#else
  return false;
#endif
}

void qbinary(DType xt, const void* a, const void* b, DType yt, void* y, const BroadcastPlan& plan,
             const ref::QBinaryParams& p, int64_t begin, int64_t end) {
#ifdef KW_QOPS_AVX512
  // 16-bit QMul products may overflow int32 lanes: they are formed in int64 (AVX-512 DQ), as in the reference.
#ifdef __AVX512DQ__
  const bool wide_mul_ok = true;
#else
  const bool wide_mul_ok = false;
#endif
  if (!(p.mul && xt == DType::kI16 && !wide_mul_ok) && plan.dims.size() >= 1) {
    bool done = dispatch_qtype(xt, [&](auto xv) {
      using TX = decltype(xv);
      dispatch_qtype(yt, [&](auto yv) {
        using TY = decltype(yv);
        qbinary_t<TX, TY>(static_cast<const TX*>(a), static_cast<const TX*>(b), static_cast<TY*>(y), plan, p, begin,
                          end);
      });
    });
    if (done) return;
  }
#endif
  ref::qbinary(xt, a, b, yt, y, plan, p, begin, end);
}

void requantize(DType xt, const void* x, DType yt, void* y, const ref::RequantizeParams& p, int64_t begin,
                int64_t end) {
#ifdef KW_QOPS_AVX512
  bool done = dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      requantize_t<TX, TY>(static_cast<const TX*>(x), static_cast<TY*>(y), p, begin, end);
    });
  });
  if (done) return;
#endif
  ref::requantize(xt, x, yt, y, p, begin, end);
}

bool qlut_vectorized() {
#if defined(KW_QOPS_AVX512) && defined(__AVX512VBMI__)
  return true;
#else
  return false;
#endif
}

void qlut(bool x_signed, const uint8_t* x, const uint8_t* table, uint8_t* y, int64_t begin, int64_t end) {
#if defined(KW_QOPS_AVX512) && defined(__AVX512VBMI__)
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i flip = _mm512_set1_epi8(x_signed ? static_cast<char>(0x80) : 0);
  auto lookup = [&](__m512i v) {
    const __m512i idx = _mm512_xor_si512(v, flip);
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);  // entries 0..127 (index bit 6 picks t0 / t1)
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);  // entries 128..255
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
  };
  int64_t i = begin;
  for (; i + 64 <= end; i += 64) _mm512_storeu_si512(y + i, lookup(_mm512_loadu_si512(x + i)));
  if (i < end) {
    const __mmask64 m = (~__mmask64(0)) >> (64 - (end - i));
    _mm512_mask_storeu_epi8(y + i, m, lookup(_mm512_maskz_loadu_epi8(m, x + i)));
  }
#else
  ref::qlut(x_signed, x, table, y, begin, end);
#endif
}

void qlut_wide(DType xt, const void* x, DType yt, const void* table, void* y, int64_t begin, int64_t end) {
#if defined(KW_QOPS_AVX512)
  if (xt == DType::kI16) {
    const int16_t* xp = static_cast<const int16_t*>(x);
    const int es = yt == DType::kI16 ? 2 : 1;
    const __m512i off = _mm512_set1_epi32(32768);
    int64_t i = begin;
    for (; i < end; i += 16) {
      const __mmask16 m = end - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (end - i)) - 1);
      const __m512i idx = _mm512_add_epi32(_mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, xp + i)), off);
      // Masked-off lanes gather nothing; each lane reads 4 bytes at its entry and keeps the low 1 or 2.
      const __m512i v = es == 2 ? _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, table, 2)
                                : _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, table, 1);
      if (es == 2) _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(y) + i, m, v);
      else _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(y) + i, m, v);
    }
    return;
  }
#endif
  ref::qlut_wide(xt, x, yt, table, y, begin, end);
}

}  // namespace kaiwu::kernels::x86
