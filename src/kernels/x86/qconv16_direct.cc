// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(): false "may be used uninitialized" warnings.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/x86/qconv16_direct.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__)
#include <immintrin.h>
#define KW_QCONV16_DIRECT 1
#endif

namespace kaiwu::kernels::x86 {

namespace {

bool is_pointwise(const ref::QConvShape& s) {
  for (int i = 0; i < 3; ++i)
    if (s.kernel[i] != 1 || s.stride[i] != 1 || s.pad_begin[i] != 0 || s.in[i] != s.out[i]) return false;
  return s.group == 1 && s.in_channels <= QConv16Direct::kMaxSum;
}

// Any other 2-D (or 1-D) convolution with one group: taps of pointwise products, C <= kMaxSum per tap. Below 16
// input channels (an image stem) the per-tap overhead dominates and the split path is faster (measured 3.5 vs 5.1 ms
// for 3 -> 16 channels, 3x3 stride 2 on 640x640).
bool is_full(const ref::QConvShape& s) {
  return s.in[0] == 1 && s.kernel[0] == 1 && s.out[0] == 1 && s.group == 1 && s.in_channels >= 16 &&
         s.in_channels <= QConv16Direct::kMaxSum;
}

bool is_depthwise(const ref::QConvShape& s) {
  return s.in[0] == 1 && s.kernel[0] == 1 && s.out[0] == 1 && s.group == s.in_channels &&
         s.out_channels == s.in_channels && s.kernel[1] * s.kernel[2] <= QConv16Direct::kMaxSum;
}

}  // namespace

bool QConv16Direct::supported(const ref::QConvShape& s) {
#ifdef KW_QCONV16_DIRECT
  return is_pointwise(s) || is_depthwise(s) || is_full(s);
#else
  (void)s;
  return false;
#endif
}

Status QConv16Direct::create(const ref::QConvShape& s, const int8_t* w, std::unique_ptr<QConv16Direct>* out) {
  if (!supported(s)) return unsupported("direct int16 convolution: not a one-group or depthwise 2-D shape on AVX-512 VNNI");
  std::unique_ptr<QConv16Direct> k(new QConv16Direct());
  k->s_ = s;
  const int64_t m = s.out_channels, blocks = (m + 15) / 16;
  if (!is_depthwise(s)) {
    k->kind_ = is_pointwise(s) ? Kind::kPointwise : Kind::kFull;
    // [M / 16 blocks][taps][ceil(C / 2)][16 lanes][2]: per tap, channel pairs of 16 output channels (one tap for
    // pointwise).
    const int64_t c = s.in_channels, kp = (c + 1) / 2, taps = s.kernel[1] * s.kernel[2];
    k->wp_.assign(blocks * taps * kp * 32, 0);
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t t = 0; t < taps; ++t)
          k->wp_[(((o / 16) * taps + t) * kp + i / 2) * 32 + (o % 16) * 2 + i % 2] = w[(o * c + i) * taps + t];
  } else {
    k->kind_ = Kind::kDepthwise;
    // Taps in pairs (2p, 2p + 1; an odd last tap pairs with a zero weight), channels in blocks of 32 split the way
    // vpunpck{l,h}wd interleaves two taps' vectors: per 128-bit lane L, channels 8L..8L+3 go to the "lo" vector and
    // 8L+4..8L+7 to the "hi" one, each as (w[2p][ch], w[2p + 1][ch]) int16 pairs.
    const int64_t taps = s.kernel[1] * s.kernel[2], pairs = (taps + 1) / 2, blocks32 = (m + 31) / 32;
    k->wd_.assign(pairs * blocks32 * 64, 0);
    for (int64_t pr = 0; pr < pairs; ++pr)
      for (int64_t cb = 0; cb < blocks32; ++cb)
        for (int h = 0; h < 2; ++h)
          for (int lane = 0; lane < 4; ++lane)
            for (int i = 0; i < 4; ++i) {
              const int64_t ch = cb * 32 + lane * 8 + h * 4 + i;
              if (ch >= m) continue;
              int16_t* d = &k->wd_[((pr * blocks32 + cb) * 2 + h) * 32 + lane * 8 + i * 2];
              d[0] = w[ch * taps + 2 * pr];
              d[1] = 2 * pr + 1 < taps ? w[ch * taps + 2 * pr + 1] : 0;
            }
  }
  *out = std::move(k);
  return Status::Ok();
}

#ifdef KW_QCONV16_DIRECT
namespace {

struct Requant {
  const double* bias;  // padded channel tables (see run_typed)
  const double* mult;
  __m512d vlo, vhi;  // the output range minus the zero point
  __m256i vz;
};

// acc + bias and the product are formed in double: |acc + bias| < 2^33 is exact there, as in ref::requantize_s64.
// Clamping to the integer bounds before rounding equals rounding then clamping, and adding the zero point after
// rounding equals adding it before (both integers), so this is bit-identical to requantize_one_s64.
inline __m256i requant8(__m256i acc, const double* b, const double* m, const Requant& q) {
  __m512d r = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepi32_pd(acc), _mm512_loadu_pd(b)), _mm512_loadu_pd(m));
  r = _mm512_min_pd(_mm512_max_pd(r, q.vlo), q.vhi);
  return _mm256_add_epi32(_mm512_cvt_roundpd_epi32(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), q.vz);
}

// 16 accumulators with the channel tables at bias / mult -> 16 requantized int32 lanes.
inline __m512i requant16(__m512i acc, const double* bias, const double* mult, const Requant& q) {
  const __m256i lo = requant8(_mm512_castsi512_si256(acc), bias, mult, q);
  const __m256i hi = requant8(_mm512_extracti64x4_epi64(acc, 1), bias + 8, mult + 8, q);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 16 accumulators of the channels [c, c + 16) -> y (masked to the channels that exist).
template <typename Y>
inline void requant_store16(__m512i acc, int64_t c, const Requant& q, Y* y, __mmask16 k) {
  const __m512i v = requant16(acc, q.bias + c, q.mult + c, q);
  if constexpr (sizeof(Y) == 2) _mm512_mask_cvtepi32_storeu_epi16(y, k, v);
  else _mm512_mask_cvtepi32_storeu_epi8(y, k, v);
}

inline __mmask16 mask16(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }


inline __mmask32 mask32(int64_t left) { return left >= 32 ? __mmask32(0xffffffffu) : __mmask32((1u << left) - 1); }

// q.bias / q.mult here are in the lo/hi order of the packed weights (see create): per block of 32 channels, 16 "lo"
// then 16 "hi" entries. A tap outside the input reads `zeros` (C int16 zeros), so the tap pairing never changes.
template <typename Y>
void run_depthwise(const ref::QConvShape& s, const int16_t* wd, const int16_t* x, const int16_t* zeros,
                   const Requant& q, Y* y, int64_t begin, int64_t end) {
  const int64_t c = s.in_channels, blocks = (c + 31) / 32;
  const int64_t ih_n = s.in[1], iw_n = s.in[2], oh_n = s.out[1], ow_n = s.out[2];
  const int64_t kw_n = s.kernel[2], taps = s.kernel[1] * kw_n, pairs = (taps + 1) / 2;
  const int64_t kh_n = s.kernel[1];
  // Per tap: its row / column offset in the window and its element offset from the window's top-left input.
  std::vector<int64_t> th(taps), tw(taps), toff(taps);
  for (int64_t t = 0; t < taps; ++t) {
    th[t] = (t / kw_n) * s.dilation[1];
    tw[t] = (t % kw_n) * s.dilation[2];
    toff[t] = (th[t] * iw_n + tw[t]) * c;
  }
  const int64_t span_h = (kh_n - 1) * s.dilation[1], span_w = (kw_n - 1) * s.dilation[2];
  std::vector<const int16_t*> src(pairs * 2, zeros);
  int64_t n = begin / (oh_n * ow_n), oh = (begin / ow_n) % oh_n, ow = begin % ow_n;
  for (int64_t p = begin; p < end; ++p) {
    const int64_t ih0 = oh * s.stride[1] - s.pad_begin[1], iw0 = ow * s.stride[2] - s.pad_begin[2];
    const int16_t* xn = x + n * ih_n * iw_n * c;
    if (ih0 >= 0 && iw0 >= 0 && ih0 + span_h < ih_n && iw0 + span_w < iw_n) {  // the whole window inside
      const int16_t* base = xn + (ih0 * iw_n + iw0) * c;
      for (int64_t t = 0; t < taps; ++t) src[t] = base + toff[t];
    } else {
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t ih = ih0 + th[t], iw = iw0 + tw[t];
        src[t] = ih >= 0 && ih < ih_n && iw >= 0 && iw < iw_n ? xn + (ih * iw_n + iw) * c : zeros;
      }
    }
    if (++ow == ow_n) {
      ow = 0;
      if (++oh == oh_n) oh = 0, ++n;
    }
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const __mmask32 k = mask32(c - cb * 32);
      __m512i acc_lo = _mm512_setzero_si512(), acc_hi = _mm512_setzero_si512();
      const int16_t* wb = wd + cb * 64;
      for (int64_t pr = 0; pr < pairs; ++pr) {
        const __m512i x0 = _mm512_maskz_loadu_epi16(k, src[2 * pr] + cb * 32);
        const __m512i x1 = _mm512_maskz_loadu_epi16(k, src[2 * pr + 1] + cb * 32);
        const int16_t* wpair = wb + pr * blocks * 64;
        acc_lo = _mm512_add_epi32(acc_lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512(wpair)));
        acc_hi = _mm512_add_epi32(acc_hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(x0, x1), _mm512_loadu_si512(wpair + 32)));
      }
      // packs interleaves per 128-bit lane: lo (8L..8L+3) then hi (8L+4..8L+7), i.e. channels in order.
      const __m512i v = _mm512_packs_epi32(requant16(acc_lo, q.bias + cb * 32, q.mult + cb * 32, q),
                                           requant16(acc_hi, q.bias + cb * 32 + 16, q.mult + cb * 32 + 16, q));
      Y* yp = y + p * c + cb * 32;
      if constexpr (sizeof(Y) == 2) _mm512_mask_storeu_epi16(yp, k, v);
      else _mm512_mask_cvtepi16_storeu_epi8(yp, k, v);
    }
  }
}

// 8 int64 accumulators -> requantized int32 lanes (exact in double below 2^53, as requant8).
inline __m256i requant8_wide(const int64_t* a, const double* b, const double* m, const Requant& q) {
  __m512d r = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepi64_pd(_mm512_loadu_si512(a)), _mm512_loadu_pd(b)),
                            _mm512_loadu_pd(m));
  r = _mm512_min_pd(_mm512_max_pd(r, q.vlo), q.vhi);
  return _mm256_add_epi32(_mm512_cvt_roundpd_epi32(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), q.vz);
}

// R output pixels (of one output row, for a window) x NB blocks of 16 output channels, summed over the taps: rows[t * R + r] is the
// input pixel (C int16) of tap t for output pixel r (a zero row outside the input), tap_on[t] false when the tap's
// input row is outside for all of them. int32 partial sums are moved to int64 every flush_taps taps (each tap adds at
// most C <= kMaxSum products of |.| <= 2^22), so the sum is exact whatever the window.
template <typename Y, int R, int NB>
void full_tile(const int16_t* const* rows, const bool* tap_on, int64_t taps, int64_t c, const int16_t* wp,
               int64_t bstride, int64_t kp_n, int64_t flush_taps, int64_t c0, int64_t m, const Requant& q, Y* y) {
  __m512i acc[R][NB];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r)
    _Pragma("GCC unroll 8") for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
  alignas(64) int64_t wide[R][NB][16];
  bool flushed = false;
  // One loop over the channel pairs (a separate tail loop makes GCC keep the accumulators in memory); an odd last
  // channel is broadcast alone (its packed partner weight is 0, and nothing past the row is read).
  const int64_t full = c / 2;
  int64_t in_chunk = 0;
  for (int64_t t = 0; t < taps; ++t) {
    if (!tap_on[t]) continue;
    const int16_t* const* xr = rows + t * R;
    for (int64_t kp = 0; kp < kp_n; ++kp) {
      const bool single = kp == full;
      __m512i wv[NB];
      _Pragma("GCC unroll 8") for (int j = 0; j < NB; ++j)
        wv[j] = _mm512_loadu_si512(wp + j * bstride + (t * kp_n + kp) * 32);
      _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
        int32_t pair;
        if (single) pair = static_cast<uint16_t>(xr[r][2 * kp]);
        else std::memcpy(&pair, xr[r] + 2 * kp, sizeof pair);
        const __m512i bx = _mm512_set1_epi32(pair);
        _Pragma("GCC unroll 8") for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpwssd_epi32(acc[r][j], bx, wv[j]);
      }
    }
    if (++in_chunk == flush_taps && t + 1 < taps) {
      in_chunk = 0;
      _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r)
        _Pragma("GCC unroll 8") for (int j = 0; j < NB; ++j) {
          int64_t* w = wide[r][j];
          const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc[r][j]));
          const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc[r][j], 1));
          _mm512_storeu_si512(w, flushed ? _mm512_add_epi64(_mm512_loadu_si512(w), lo) : lo);
          _mm512_storeu_si512(w + 8, flushed ? _mm512_add_epi64(_mm512_loadu_si512(w + 8), hi) : hi);
          acc[r][j] = _mm512_setzero_si512();
        }
      flushed = true;
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r)
    _Pragma("GCC unroll 8") for (int j = 0; j < NB; ++j) {
      const int64_t ch = c0 + j * 16;
      if (!flushed) {
        requant_store16(acc[r][j], ch, q, y + r * m + ch, mask16(m - ch));
        continue;
      }
      int64_t* w = wide[r][j];
      _mm512_storeu_si512(w, _mm512_add_epi64(_mm512_loadu_si512(w), _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc[r][j]))));
      _mm512_storeu_si512(w + 8, _mm512_add_epi64(_mm512_loadu_si512(w + 8),
                                                  _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc[r][j], 1))));
      const __m256i a = requant8_wide(w, q.bias + ch, q.mult + ch, q);
      const __m256i b = requant8_wide(w + 8, q.bias + ch + 8, q.mult + ch + 8, q);
      const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
      if constexpr (sizeof(Y) == 2) _mm512_mask_cvtepi32_storeu_epi16(y + r * m + ch, mask16(m - ch), v);
      else _mm512_mask_cvtepi32_storeu_epi8(y + r * m + ch, mask16(m - ch), v);
    }
}

template <typename Y, int R>
void full_rows(const int16_t* const* rows, const bool* tap_on, int64_t taps, int64_t c, const int16_t* wp,
               int64_t kp_n, int64_t flush_taps, int64_t m, const Requant& q, Y* y) {
  const int64_t blocks = (m + 15) / 16, bstride = taps * kp_n * 32;
  int64_t b = 0;
  for (; b + 4 <= blocks; b += 4)
    full_tile<Y, R, 4>(rows, tap_on, taps, c, wp + b * bstride, bstride, kp_n, flush_taps, b * 16, m, q, y);
  switch (blocks - b) {
    case 3: full_tile<Y, R, 3>(rows, tap_on, taps, c, wp + b * bstride, bstride, kp_n, flush_taps, b * 16, m, q, y); break;
    case 2: full_tile<Y, R, 2>(rows, tap_on, taps, c, wp + b * bstride, bstride, kp_n, flush_taps, b * 16, m, q, y); break;
    case 1: full_tile<Y, R, 1>(rows, tap_on, taps, c, wp + b * bstride, bstride, kp_n, flush_taps, b * 16, m, q, y); break;
    default: break;
  }
}

// full_rows for a tile of r_n (1..6) pixels: rows holds r_n pointers per tap.
template <typename Y>
void tile_rows(int64_t r_n, const int16_t* const* rows, const bool* tap_on, int64_t taps, int64_t c,
               const int16_t* wp, int64_t kp_n, int64_t flush_taps, int64_t m, const Requant& q, Y* y) {
  switch (r_n) {
    case 6: full_rows<Y, 6>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
    case 5: full_rows<Y, 5>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
    case 4: full_rows<Y, 4>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
    case 3: full_rows<Y, 3>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
    case 2: full_rows<Y, 2>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
    default: full_rows<Y, 1>(rows, tap_on, taps, c, wp, kp_n, flush_taps, m, q, y); break;
  }
}

// Pointwise: any 6 consecutive pixels form a tile (rows C int16 apart), one tap.
template <typename Y>
void run_pointwise(const ref::QConvShape& s, const int16_t* wp, const int16_t* x, const Requant& q, Y* y,
                   int64_t begin, int64_t end) {
  const int64_t c = s.in_channels, m = s.out_channels, kp_n = (c + 1) / 2;
  const bool on = true;
  const int16_t* rows[6];
  for (int64_t p = begin; p < end; p += 6) {
    const int64_t r_n = std::min<int64_t>(6, end - p);
    for (int64_t r = 0; r < r_n; ++r) rows[r] = x + (p + r) * c;
    tile_rows(r_n, rows, &on, 1, c, wp, kp_n, 1, m, q, y + p * m);
  }
}

// Full: tiles of up to 6 pixels within one output row; per tap, each pixel's input (or the zero row).
template <typename Y>
void run_full(const ref::QConvShape& s, const int16_t* wp, const int16_t* x, const int16_t* zeros, const Requant& q,
              Y* y, int64_t begin, int64_t end) {
  constexpr int64_t kR = 6;
  const int64_t c = s.in_channels, m = s.out_channels, kp_n = (c + 1) / 2;
  const int64_t ih_n = s.in[1], iw_n = s.in[2], oh_n = s.out[1], ow_n = s.out[2];
  const int64_t kw_n = s.kernel[2], taps = s.kernel[1] * kw_n;
  const int64_t flush_taps = std::max<int64_t>(1, QConv16Direct::kMaxSum / c);
  std::vector<const int16_t*> rows(taps * kR);
  std::unique_ptr<bool[]> tap_on(new bool[taps]);
  for (int64_t p = begin; p < end;) {
    const int64_t n = p / (oh_n * ow_n), oh = (p / ow_n) % oh_n, ow0 = p % ow_n;
    const int64_t r_n = std::min<int64_t>({kR, ow_n - ow0, end - p});
    const int16_t* xn = x + n * ih_n * iw_n * c;
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t kh = t / kw_n, kw = t % kw_n;
      const int64_t ih = oh * s.stride[1] - s.pad_begin[1] + kh * s.dilation[1];
      tap_on[t] = ih >= 0 && ih < ih_n;
      for (int64_t r = 0; r < r_n; ++r) {
        const int64_t iw = (ow0 + r) * s.stride[2] - s.pad_begin[2] + kw * s.dilation[2];
        rows[t * r_n + r] = tap_on[t] && iw >= 0 && iw < iw_n ? xn + (ih * iw_n + iw) * c : zeros;
      }
    }
    tile_rows(r_n, rows.data(), tap_on.get(), taps, c, wp, kp_n, flush_taps, m, q, y + p * m);
    p += r_n;
  }
}

template <typename Y>
void run_typed(QConv16Direct::Kind kind, const ref::QConvShape& s, const int16_t* wp, const int16_t* wd,
               const int16_t* x, const int32_t* bias, const float* mult, int32_t y_zp, Y* y, int64_t begin,
               int64_t end, int32_t y_min, int32_t y_max) {
  const bool dw = kind == QConv16Direct::Kind::kDepthwise;
  const int64_t m = s.out_channels, mp = (m + 31) / 32 * 32;
  // Channel tables padded to 32 (the padded lanes are computed, then masked off at the store); for depthwise in the
  // lo/hi order of its packed weights.
  std::vector<double> b(mp, 0.0), md(mp, 0.0);
  for (int64_t i = 0; i < mp; ++i) {
    const int64_t within = i % 32, h = within / 16, lane = (within % 16) / 4;
    const int64_t o = dw ? i - within + lane * 8 + h * 4 + within % 4 : i;
    if (o >= m) continue;
    b[i] = bias ? bias[o] : 0.0;
    md[i] = static_cast<double>(mult[o]);
  }
  const double lo = std::max<double>(std::numeric_limits<Y>::lowest(), y_min);
  const double hi = std::min<double>(std::numeric_limits<Y>::max(), y_max);
  Requant q{b.data(), md.data(), _mm512_set1_pd(lo - y_zp), _mm512_set1_pd(hi - y_zp), _mm256_set1_epi32(y_zp)};
  if (kind == QConv16Direct::Kind::kPointwise) return run_pointwise(s, wp, x, q, y, begin, end);
  const std::vector<int16_t> zeros(std::max<int64_t>(mp, s.in_channels + 2), 0);
  if (kind == QConv16Direct::Kind::kFull) return run_full(s, wp, x, zeros.data(), q, y, begin, end);
  run_depthwise(s, wd, x, zeros.data(), q, y, begin, end);
}

}  // namespace
#endif

void QConv16Direct::run(const int16_t* x, const int32_t* bias, const float* mult, int32_t y_zp, DType yt, void* y,
                        int64_t begin, int64_t end, int32_t y_min, int32_t y_max) const {
#ifdef KW_QCONV16_DIRECT
  switch (yt) {
    case DType::kU8:
      run_typed(kind_, s_, wp_.data(), wd_.data(), x, bias, mult, y_zp, static_cast<uint8_t*>(y), begin, end, y_min, y_max);
      break;
    case DType::kI8:
      run_typed(kind_, s_, wp_.data(), wd_.data(), x, bias, mult, y_zp, static_cast<int8_t*>(y), begin, end, y_min, y_max);
      break;
    default:
      run_typed(kind_, s_, wp_.data(), wd_.data(), x, bias, mult, y_zp, static_cast<int16_t*>(y), begin, end, y_min, y_max);
      break;
  }
#else
  (void)x, (void)bias, (void)mult, (void)y_zp, (void)yt, (void)y, (void)begin, (void)end, (void)y_min, (void)y_max;
#endif
}

}  // namespace kaiwu::kernels::x86
