// GCC 12's AVX-512 intrinsic headers (cvtepu8_epi32, cvtepi32_epi8, permutexvar) trip false positives.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/x86/preprocess.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VBMI__)
#define KAIWU_PREPROCESS_AVX512 1
#include <immintrin.h>
#endif

namespace kaiwu::kernels::x86 {

#ifdef KAIWU_PREPROCESS_AVX512
namespace {

inline __m512 bytes_to_ps(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }

// Byte index vectors: channel c of 16 packed 3-byte pixels, and the 3-channel interleave of three 16-byte groups.
struct Tables {
  alignas(64) uint8_t deint[3][64];
  alignas(64) uint8_t inter[64];
  Tables() {
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 64; ++i) deint[c][i] = static_cast<uint8_t>(i < 16 ? 3 * i + c : 0);
    for (int j = 0; j < 64; ++j) inter[j] = static_cast<uint8_t>(j < 48 ? (j % 3) * 16 + j / 3 : 0);
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

bool preprocess_available() { return true; }

void preprocess(const uint8_t* in, const uint8_t* uv, void* out, const ref::PreprocessParams& p, int64_t row_begin,
                int64_t row_end) {
  const int64_t H = p.height, W = p.width, C = p.out_channels, plane = H * W;
  const Tables& t = tables();
  const __m512i deint0 = _mm512_load_si512(t.deint[0]), deint1 = _mm512_load_si512(t.deint[1]),
                deint2 = _mm512_load_si512(t.deint[2]), inter = _mm512_load_si512(t.inter);
  const __m128i shuf_u = _mm_setr_epi8(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
  const __m128i shuf_v = _mm_setr_epi8(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
  const __m512i lane3 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(3));
  __m512 off[3], base[3], mat[3][3], mean[3], scale[3];
  for (int c = 0; c < 3; ++c) {
    off[c] = _mm512_set1_ps(p.off[c]);
    base[c] = _mm512_set1_ps(p.base[c]);
    mean[c] = _mm512_set1_ps(p.mean[c]);
    scale[c] = _mm512_set1_ps(p.scale[c]);
    for (int k = 0; k < 3; ++k) mat[c][k] = _mm512_set1_ps(p.mat[c][k]);
  }
  const bool quant = p.out_type != DType::kF32;
  const __m512 qs = _mm512_set1_ps(p.q_scale), qzp = _mm512_set1_ps(static_cast<float>(p.q_zero_point));
  const __m512 qmin = _mm512_set1_ps(p.out_type == DType::kU8 ? 0.f : -128.f);
  const __m512 qmax = _mm512_set1_ps(p.out_type == DType::kU8 ? 255.f : 127.f);
  const __m512 zero = _mm512_setzero_ps(), v255 = _mm512_set1_ps(255.f);

  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t n = row / H, h = row % H;
    const uint8_t* src = in + n * p.in_batch_stride + h * W * (p.nv12 ? 1 : p.in_channels);
    const uint8_t* src_uv = p.nv12 ? uv + n * p.uv_batch_stride + (h / 2) * W : nullptr;
    for (int64_t w = 0; w < W; w += 16) {
      const int k = static_cast<int>(W - w < 16 ? W - w : 16);
      const __mmask16 m16 = static_cast<__mmask16>((1u << k) - 1u);
      __m512 v[3];
      if (p.nv12) {
        v[0] = bytes_to_ps(_mm_maskz_loadu_epi8(m16, src + w));
        const int nb = 2 * ((k + 1) / 2);
        const __m128i b = _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << nb) - 1u), src_uv + w);
        v[1] = bytes_to_ps(_mm_shuffle_epi8(b, shuf_u));
        v[2] = bytes_to_ps(_mm_shuffle_epi8(b, shuf_v));
      } else if (p.in_channels == 1) {
        v[0] = bytes_to_ps(_mm_maskz_loadu_epi8(m16, src + w));
      } else {
        const __mmask64 m = k == 16 ? 0xFFFFFFFFFFFFull : ((1ull << (3 * k)) - 1ull);
        const __m512i b = _mm512_maskz_loadu_epi8(m, src + 3 * w);
        v[0] = bytes_to_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi8(deint0, b)));
        v[1] = bytes_to_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi8(deint1, b)));
        v[2] = bytes_to_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi8(deint2, b)));
      }
      __m512 d[3];
      if (p.affine)
        for (int j = 0; j < 3; ++j) d[j] = _mm512_sub_ps(v[j], off[j]);
      __m128i qb[3];
      for (int64_t c = 0; c < C; ++c) {
        __m512 x;
        if (p.affine) {
          __m512 acc = _mm512_fmadd_ps(mat[c][0], d[0], base[c]);
          acc = _mm512_fmadd_ps(mat[c][1], d[1], acc);
          acc = _mm512_fmadd_ps(mat[c][2], d[2], acc);
          x = _mm512_min_ps(_mm512_max_ps(acc, zero), v255);
        } else {
          x = v[p.perm[c]];
        }
        const __m512 y = _mm512_mul_ps(_mm512_sub_ps(x, mean[c]), scale[c]);
        if (!quant) {
          float* o = static_cast<float*>(out);
          if (p.nchw)
            _mm512_mask_storeu_ps(o + (n * C + c) * plane + h * W + w, m16, y);
          else if (C == 1)
            _mm512_mask_storeu_ps(o + row * W + w, m16, y);
          else
            _mm512_mask_i32scatter_ps(o + (row * W + w) * 3 + c, m16, lane3, y, 4);
          continue;
        }
        __m512 r = _mm512_roundscale_ps(_mm512_div_ps(y, qs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, qzp), qmin), qmax);
        qb[c] = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r));
        uint8_t* o = static_cast<uint8_t*>(out);
        if (p.nchw)
          _mm_mask_storeu_epi8(o + (n * C + c) * plane + h * W + w, m16, qb[c]);
        else if (C == 1)
          _mm_mask_storeu_epi8(o + row * W + w, m16, qb[c]);
      }
      if (quant && !p.nchw && C == 3) {
        __m512i z = _mm512_castsi128_si512(qb[0]);
        z = _mm512_inserti32x4(z, qb[1], 1);
        z = _mm512_inserti32x4(z, qb[2], 2);
        const __mmask64 m = k == 16 ? 0xFFFFFFFFFFFFull : ((1ull << (3 * k)) - 1ull);
        _mm512_mask_storeu_epi8(static_cast<uint8_t*>(out) + (row * W + w) * 3, m, _mm512_permutexvar_epi8(inter, z));
      }
    }
  }
}

#else

bool preprocess_available() { return false; }

void preprocess(const uint8_t* in, const uint8_t* uv, void* out, const ref::PreprocessParams& p, int64_t row_begin,
                int64_t row_end) {
  ref::preprocess(in, uv, out, p, row_begin, row_end);
}

#endif

}  // namespace kaiwu::kernels::x86
