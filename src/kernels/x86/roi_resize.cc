#include "kernels/x86/roi_resize.h"

#include <algorithm>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#define KAIWU_ROI_AVX512 1
#endif

namespace kaiwu::kernels::x86 {

#ifdef KAIWU_ROI_AVX512

bool roi_resize_available() { return true; }

namespace {

inline __m512i lerp(__m512i a, __m512i b, __m512i w) {  // a * (2048 - w) + b * w
  return _mm512_add_epi32(_mm512_slli_epi32(a, 11), _mm512_mullo_epi32(_mm512_sub_epi32(b, a), w));
}

inline __m512i blend_rows(__m512i top, __m512i bot, __m512i wy0, __m512i wy) {
  const __m512i half = _mm512_set1_epi32(1 << 21);
  return _mm512_srli_epi32(
      _mm512_add_epi32(_mm512_add_epi32(_mm512_mullo_epi32(top, wy0), _mm512_mullo_epi32(bot, wy)), half), 22);
}

}  // namespace

void roi_resize_plane(const uint8_t* src, int64_t src_h, int64_t src_w, int channels, const ref::RoiAxis& ay,
                      const ref::RoiAxis& ax, uint8_t* dst, int64_t row_begin, int64_t row_end) {
  const int64_t ow = static_cast<int64_t>(ax.i0.size());
  if ((channels != 1 && channels != 2) || src_w < 2 || ow < 16) {
    ref::roi_resize_plane(src, src_w, channels, ay, ax, dst, row_begin, row_end);
    return;
  }
  const int C = channels;
  const int64_t stride = src_w * C;
  // Each output reads the pixel pair (xs, xs + 1) with xs = min(i0, W - 2): i1 == i0 + 1 whenever the weight of i1
  // is non-zero, and when i0 == W - 1 (weight 0) the pair (W - 2, W - 1) with weight 2048 gives the same value.
  std::vector<int32_t> off(ow), wx(ow);
  for (int64_t ox = 0; ox < ow; ++ox) {
    const bool last = ax.i0[ox] >= src_w - 1;
    off[ox] = static_cast<int32_t>((last ? src_w - 2 : ax.i0[ox]) * C);
    wx[ox] = last ? 2048 : ax.w[ox];
  }
  // A 32-bit gather reads 4 bytes from off: for Y (2 used) up to 2 bytes past the row, which stays inside the plane
  // except on its last row, where outputs from `lim_last` on are computed by the scalar tail.
  int64_t lim_last = ow;
  if (C == 1)
    while (lim_last > 0 && off[lim_last - 1] + 4 > src_w) --lim_last;
  const __m512i m8 = _mm512_set1_epi32(0xFF);
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    const int64_t y0 = ay.i0[oy], y1 = ay.i1[oy];
    const uint8_t* r0 = src + y0 * stride;
    const uint8_t* r1 = src + y1 * stride;
    const int32_t wy = ay.w[oy];
    const __m512i vwy = _mm512_set1_epi32(wy), vwy0 = _mm512_set1_epi32(2048 - wy);
    uint8_t* d = dst + oy * ow * C;
    const int64_t lim = (C == 1 && std::max(y0, y1) >= src_h - 1) ? lim_last : ow;
    int64_t ox = 0;
    if (C == 1) {
      for (; ox + 16 <= lim; ox += 16) {
        const __m512i o = _mm512_loadu_si512(off.data() + ox), w = _mm512_loadu_si512(wx.data() + ox);
        const __m512i g0 = _mm512_i32gather_epi32(o, r0, 1), g1 = _mm512_i32gather_epi32(o, r1, 1);
        const __m512i top = lerp(_mm512_and_si512(g0, m8), _mm512_and_si512(_mm512_srli_epi32(g0, 8), m8), w);
        const __m512i bot = lerp(_mm512_and_si512(g1, m8), _mm512_and_si512(_mm512_srli_epi32(g1, 8), m8), w);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + ox), _mm512_cvtepi32_epi8(blend_rows(top, bot, vwy0, vwy)));
      }
    } else {
      for (; ox + 16 <= lim; ox += 16) {  // bytes U0 V0 U1 V1 of each pair
        const __m512i o = _mm512_loadu_si512(off.data() + ox), w = _mm512_loadu_si512(wx.data() + ox);
        const __m512i g0 = _mm512_i32gather_epi32(o, r0, 1), g1 = _mm512_i32gather_epi32(o, r1, 1);
        const __m512i tu = lerp(_mm512_and_si512(g0, m8), _mm512_and_si512(_mm512_srli_epi32(g0, 16), m8), w);
        const __m512i tv = lerp(_mm512_and_si512(_mm512_srli_epi32(g0, 8), m8), _mm512_srli_epi32(g0, 24), w);
        const __m512i bu = lerp(_mm512_and_si512(g1, m8), _mm512_and_si512(_mm512_srli_epi32(g1, 16), m8), w);
        const __m512i bv = lerp(_mm512_and_si512(_mm512_srli_epi32(g1, 8), m8), _mm512_srli_epi32(g1, 24), w);
        const __m512i uv = _mm512_or_si512(blend_rows(tu, bu, vwy0, vwy), _mm512_slli_epi32(blend_rows(tv, bv, vwy0, vwy), 8));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + ox * 2), _mm512_cvtepi32_epi16(uv));
      }
    }
    for (; ox < ow; ++ox) {
      const int32_t w = wx[ox], w0 = 2048 - w;
      for (int c = 0; c < C; ++c) {
        const int32_t top = r0[off[ox] + c] * w0 + r0[off[ox] + C + c] * w;
        const int32_t bot = r1[off[ox] + c] * w0 + r1[off[ox] + C + c] * w;
        d[ox * C + c] = static_cast<uint8_t>((top * (2048 - wy) + bot * wy + (1 << 21)) >> 22);
      }
    }
  }
}

#else

bool roi_resize_available() { return false; }

void roi_resize_plane(const uint8_t* src, int64_t src_h, int64_t src_w, int channels, const ref::RoiAxis& ay,
                      const ref::RoiAxis& ax, uint8_t* dst, int64_t row_begin, int64_t row_end) {
  (void)src_h;
  ref::roi_resize_plane(src, src_w, channels, ay, ax, dst, row_begin, row_end);
}

#endif

}  // namespace kaiwu::kernels::x86
