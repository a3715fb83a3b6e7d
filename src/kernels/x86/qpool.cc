// GCC 12 reports false "uninitialized" warnings inside the AVX-512 masked-load intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/x86/qpool.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "kernels/x86/qelementwise.h"

namespace kaiwu::kernels::x86 {
namespace {

// y[c] = q_finish(f32(acc[c] - off) * m) for c < n.
template <typename TY>
void finish_row(const int32_t* acc, int32_t off, float m, float zy, TY* y, int64_t n) {
#ifdef KW_QOPS_AVX512
  const __m512i voff = _mm512_set1_epi32(off);
  const __m512 vm = _mm512_set1_ps(m), vzy = _mm512_set1_ps(zy);
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 k = qsimd::tail16(n - c);
    const __m512i d = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, acc + c), voff);
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(d), vm);
    qsimd::store(y + c, k, qsimd::finish<TY>(v, vzy));
  }
#else
  for (int64_t c = 0; c < n; ++c) {
    const float v = static_cast<float>(acc[c] - off) * m;
    y[c] = q_finish<TY>(v, zy);
  }
#endif
}

template <typename TX, typename TY>
void qgap_t(const TX* x, TY* y, int64_t batch, int64_t C, int64_t spatial, ActLayout layout, const QPoolQuant& q) {
  const float m = qpool_multiplier(q, spatial), zy = static_cast<float>(q.zy);
  const int32_t off = static_cast<int32_t>(spatial) * q.zx;
  if (layout == ActLayout::kNCHW) {
    parallel_for(batch * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(spatial, 1)), [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        const TX* xp = x + pl * spatial;
        int32_t sum = 0;
        for (int64_t s = 0; s < spatial; ++s) sum += xp[s];
        const float v = static_cast<float>(sum - off) * m;
        y[pl] = spatial ? q_finish<TY>(v, zy) : q_finish<TY>(0.f, zy);
      }
    });
    return;
  }
  // NHWC: blocks of 64 channels, int32 accumulators vectorized over channels.
  constexpr int64_t kBlock = 64;
  const int64_t nb = (C + kBlock - 1) / kBlock;
  parallel_for(batch * nb, 1, [&](int64_t b, int64_t e) {
    int32_t acc[kBlock];
    for (int64_t u = b; u < e; ++u) {
      const int64_t n = u / nb, c0 = (u % nb) * kBlock, cl = std::min(kBlock, C - c0);
      std::fill(acc, acc + kBlock, 0);
      for (int64_t s = 0; s < spatial; ++s) {
        const TX* xs = x + (n * spatial + s) * C + c0;
        for (int64_t c = 0; c < cl; ++c) acc[c] += xs[c];
      }
      if (spatial) finish_row(acc, off, m, zy, y + n * C + c0, cl);
      else std::fill(y + n * C + c0, y + n * C + c0 + cl, q_finish<TY>(0.f, zy));
    }
  });
}

// Per-axis window tables: first input index, valid tap range [k0, k1), padded tap count.
struct Axis {
  std::vector<int64_t> start, k0, k1, padded;
};

Axis make_axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
  Axis a;
  for (int64_t o = 0; o < out; ++o) {
    int64_t st = o * s - pb, lo = k, hi = 0, padded = 0;
    for (int64_t t = 0; t < k; ++t) {
      const int64_t i = st + t * d;
      if (i >= 0 && i < in) {
        lo = std::min(lo, t);
        hi = t + 1;
      }
      if (i >= -pb && i < in + pe) ++padded;
    }
    if (hi <= lo) lo = hi = 0;
    a.start.push_back(st);
    a.k0.push_back(lo);
    a.k1.push_back(hi);
    a.padded.push_back(padded);
  }
  return a;
}

template <typename TX, typename TY>
void qavg_t(const TX* x, TY* y, const PoolParams& p, const QPoolQuant& q) {
  const bool one_d = p.in_dims.size() == 1;
  auto dim = [&](const std::vector<int64_t>& v, int i, int64_t def) { return one_d ? (i == 0 ? def : v[0]) : v[i]; };
  const int64_t H = dim(p.in_dims, 0, 1), W = dim(p.in_dims, 1, 1), OH = dim(p.out_dims, 0, 1),
                OW = dim(p.out_dims, 1, 1), C = p.channels;
  const Axis ah = make_axis(H, OH, dim(p.kernel, 0, 1), dim(p.strides, 0, 1), dim(p.dilations, 0, 1),
                            dim(p.pads_begin, 0, 0), dim(p.pads_end, 0, 0));
  const Axis aw = make_axis(W, OW, dim(p.kernel, 1, 1), dim(p.strides, 1, 1), dim(p.dilations, 1, 1),
                            dim(p.pads_begin, 1, 0), dim(p.pads_end, 1, 0));
  const int64_t dh = dim(p.dilations, 0, 1), dw = dim(p.dilations, 1, 1);
  const float zy = static_cast<float>(q.zy);
  // Tap count inside the input, multiplier (0 for an empty divisor: the result is then sat(zy)).
  auto window = [&](int64_t oh, int64_t ow, int64_t* valid) {
    *valid = (ah.k1[oh] - ah.k0[oh]) * (aw.k1[ow] - aw.k0[ow]);
    const int64_t div = p.count_include_pad ? ah.padded[oh] * aw.padded[ow] : *valid;
    return div ? qpool_multiplier(q, div) : 0.f;
  };
  if (p.layout == ActLayout::kNHWC) {
    parallel_for(p.batch * OH, 1, [&](int64_t b, int64_t e) {
      std::vector<int32_t> acc(C);
      for (int64_t row = b; row < e; ++row) {
        const int64_t n = row / OH, oh = row % OH;
        for (int64_t ow = 0; ow < OW; ++ow) {
          std::fill(acc.begin(), acc.end(), 0);
          int32_t* a = acc.data();
          for (int64_t kh = ah.k0[oh]; kh < ah.k1[oh]; ++kh) {
            const int64_t ih = ah.start[oh] + kh * dh;
            for (int64_t kw = aw.k0[ow]; kw < aw.k1[ow]; ++kw) {
              const TX* xi = x + ((n * H + ih) * W + aw.start[ow] + kw * dw) * C;
              for (int64_t c = 0; c < C; ++c) a[c] += xi[c];
            }
          }
          int64_t valid;
          const float m = window(oh, ow, &valid);
          finish_row(a, static_cast<int32_t>(valid) * q.zx, m, zy, y + ((n * OH + oh) * OW + ow) * C, C);
        }
      }
    });
    return;
  }
  // NCHW: per output row, sum the valid input rows into tmp (contiguous), then along the row.
  parallel_for(p.batch * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H * W)), [&](int64_t b, int64_t e) {
    std::vector<int32_t> tmp(W);
    for (int64_t plane = b; plane < e; ++plane) {
      const TX* xp = x + plane * H * W;
      TY* yp = y + plane * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int32_t* t = tmp.data();
        std::fill(t, t + W, 0);
        for (int64_t kh = ah.k0[oh]; kh < ah.k1[oh]; ++kh) {
          const TX* r = xp + (ah.start[oh] + kh * dh) * W;
          for (int64_t w = 0; w < W; ++w) t[w] += r[w];
        }
        for (int64_t ow = 0; ow < OW; ++ow) {
          int32_t acc = 0;
          const int32_t* tw = t + aw.start[ow];
          for (int64_t kw = aw.k0[ow]; kw < aw.k1[ow]; ++kw) acc += tw[kw * dw];
          int64_t valid;
          const float m = window(oh, ow, &valid);
          const float v = static_cast<float>(acc - static_cast<int32_t>(valid) * q.zx) * m;
          yp[oh * OW + ow] = q_finish<TY>(v, zy);
        }
      }
    }
  });
}

}  // namespace

void qglobal_avg_pool(DType xt, const void* x, DType yt, void* y, int64_t batch, int64_t channels, int64_t spatial,
                      ActLayout layout, const QPoolQuant& q) {
  dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      qgap_t<TX, TY>(static_cast<const TX*>(x), static_cast<TY*>(y), batch, channels, spatial, layout, q);
    });
  });
}

bool qavg_pool(DType xt, const void* x, DType yt, void* y, const PoolParams& p, const QPoolQuant& q) {
  if (p.in_dims.size() != 1 && p.in_dims.size() != 2) return false;
  return dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      qavg_t<TX, TY>(static_cast<const TX*>(x), static_cast<TY*>(y), p, q);
    });
  });
}

}  // namespace kaiwu::kernels::x86
