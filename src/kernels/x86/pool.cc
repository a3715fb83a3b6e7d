#include "kernels/x86/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {

namespace {

// Per-axis window tables: for each output position, the first input index, the valid tap range [k0, k1)
// and the tap counts (inside the input / inside the padded input) used as average divisors.
struct Axis {
  std::vector<int64_t> start, k0, k1, cnt, padded_cnt;
};

Axis make_axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
  Axis a;
  for (int64_t o = 0; o < out; ++o) {
    int64_t st = o * s - pb, lo = k, hi = 0, padded = 0;
    for (int64_t t = 0; t < k; ++t) {
      int64_t i = st + t * d;
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
    a.cnt.push_back(hi - lo);
    a.padded_cnt.push_back(padded);
  }
  return a;
}

// The params as 2-D (a 1-D pool gets a leading axis of size 1); false if rank is not 1 or 2.
bool as_2d(const PoolParams& p, PoolParams* q) {
  *q = p;
  if (p.in_dims.size() == 2) return true;
  if (p.in_dims.size() != 1) return false;
  auto pre = [](std::vector<int64_t>& v, int64_t x) { v.insert(v.begin(), x); };
  pre(q->in_dims, 1);
  pre(q->out_dims, 1);
  pre(q->kernel, 1);
  pre(q->strides, 1);
  pre(q->dilations, 1);
  pre(q->pads_begin, 0);
  pre(q->pads_end, 0);
  return true;
}

enum class Kind { kMax, kAvg };

// T: float (max or average) or int8_t / uint8_t (max only).
template <Kind K, typename T>
bool pool_2d(const PoolParams& p0, const T* x, T* y) {
  PoolParams p;
  if (!as_2d(p0, &p)) return false;
  const int64_t H = p.in_dims[0], W = p.in_dims[1], OH = p.out_dims[0], OW = p.out_dims[1], C = p.channels;
  const Axis ah = make_axis(H, OH, p.kernel[0], p.strides[0], p.dilations[0], p.pads_begin[0], p.pads_end[0]);
  const Axis aw = make_axis(W, OW, p.kernel[1], p.strides[1], p.dilations[1], p.pads_begin[1], p.pads_end[1]);
  const int64_t dh = p.dilations[0], dw = p.dilations[1];
  constexpr T init = K == Kind::kAvg ? T(0)
                     : std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                            : std::numeric_limits<T>::lowest();
  auto divisor = [&](int64_t oh, int64_t ow) -> float {
    int64_t n = p.count_include_pad ? ah.padded_cnt[oh] * aw.padded_cnt[ow] : ah.cnt[oh] * aw.cnt[ow];
    return n ? 1.f / static_cast<float>(n) : 0.f;
  };
  auto combine = [](T a, T b) -> T {
    if constexpr (K == Kind::kMax) return b > a ? b : a;
    else return a + b;
  };

  if (p.layout == ActLayout::kNCHW) {
    // Per output row: reduce the valid input rows into tmp (contiguous, vectorizes), then along the row.
    parallel_for(p.batch * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H * W)), [&](int64_t b, int64_t e) {
      std::vector<T> tmp(W);
      for (int64_t plane = b; plane < e; ++plane) {
        const T* xp = x + plane * H * W;
        T* yp = y + plane * OH * OW;
        for (int64_t oh = 0; oh < OH; ++oh) {
          T* t = tmp.data();
          std::fill(t, t + W, init);
          for (int64_t kh = ah.k0[oh]; kh < ah.k1[oh]; ++kh) {
            const T* row = xp + (ah.start[oh] + kh * dh) * W;
            for (int64_t w = 0; w < W; ++w) t[w] = combine(t[w], row[w]);
          }
          for (int64_t ow = 0; ow < OW; ++ow) {
            T acc = init;
            const T* tw = t + aw.start[ow];
            for (int64_t kw = aw.k0[ow]; kw < aw.k1[ow]; ++kw) acc = combine(acc, tw[kw * dw]);
            if constexpr (K == Kind::kAvg) acc *= divisor(oh, ow);
            else if (aw.k1[ow] == aw.k0[ow] || ah.k1[oh] == ah.k0[oh]) acc = T(0);
            yp[oh * OW + ow] = acc;
          }
        }
      }
    });
    return true;
  }
  // NHWC: vectorize over channels.
  parallel_for(p.batch * OH, 1, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t n = row / OH, oh = row % OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        T* yo = y + ((n * OH + oh) * OW + ow) * C;
        std::fill(yo, yo + C, init);
        for (int64_t kh = ah.k0[oh]; kh < ah.k1[oh]; ++kh) {
          const int64_t ih = ah.start[oh] + kh * dh;
          for (int64_t kw = aw.k0[ow]; kw < aw.k1[ow]; ++kw) {
            const T* xi = x + ((n * H + ih) * W + aw.start[ow] + kw * dw) * C;
            for (int64_t c = 0; c < C; ++c) yo[c] = combine(yo[c], xi[c]);
          }
        }
        if constexpr (K == Kind::kAvg) {
          const float s = divisor(oh, ow);
          for (int64_t c = 0; c < C; ++c) yo[c] *= s;
        } else if (aw.k1[ow] == aw.k0[ow] || ah.k1[oh] == ah.k0[oh]) {
          std::fill(yo, yo + C, T(0));
        }
      }
    }
  });
  return true;
}

}  // namespace

bool max_pool_f32(const PoolParams& p, const float* x, float* y) { return pool_2d<Kind::kMax, float>(p, x, y); }
bool max_pool_i8(const PoolParams& p, const int8_t* x, int8_t* y) { return pool_2d<Kind::kMax, int8_t>(p, x, y); }
bool max_pool_u8(const PoolParams& p, const uint8_t* x, uint8_t* y) { return pool_2d<Kind::kMax, uint8_t>(p, x, y); }
bool avg_pool_f32(const PoolParams& p, const float* x, float* y) { return pool_2d<Kind::kAvg, float>(p, x, y); }

void global_avg_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y) {
  const float inv = spatial ? 1.f / static_cast<float>(spatial) : 0.f;
  if (layout == ActLayout::kNCHW) {
    parallel_for(batch * channels, std::max<int64_t>(1, 4096 / std::max<int64_t>(spatial, 1)), [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        const float* xp = x + pl * spatial;
        float acc[16] = {0};
        int64_t s = 0;
        for (; s + 16 <= spatial; s += 16)
          for (int j = 0; j < 16; ++j) acc[j] += xp[s + j];
        for (int j = 0; s < spatial; ++s, ++j) acc[j] += xp[s];
        float sum = 0;
        for (int j = 0; j < 16; ++j) sum += acc[j];
        y[pl] = sum * inv;
      }
    });
    return;
  }
  parallel_for(batch, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      float* yo = y + n * channels;
      std::fill(yo, yo + channels, 0.f);
      for (int64_t s = 0; s < spatial; ++s) {
        const float* xs = x + (n * spatial + s) * channels;
        for (int64_t c = 0; c < channels; ++c) yo[c] += xs[c];
      }
      for (int64_t c = 0; c < channels; ++c) yo[c] *= inv;
    }
  });
}

void global_max_pool_f32(int64_t batch, int64_t channels, int64_t spatial, ActLayout layout, const float* x, float* y) {
  constexpr float lo = -std::numeric_limits<float>::infinity();
  if (layout == ActLayout::kNCHW) {
    parallel_for(batch * channels, std::max<int64_t>(1, 4096 / std::max<int64_t>(spatial, 1)), [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        const float* xp = x + pl * spatial;
        float acc[16] = {lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo};
        int64_t s = 0;
        for (; s + 16 <= spatial; s += 16)
          for (int j = 0; j < 16; ++j) acc[j] = xp[s + j] > acc[j] ? xp[s + j] : acc[j];
        for (int j = 0; s < spatial; ++s, ++j) acc[j] = xp[s] > acc[j] ? xp[s] : acc[j];
        float m = lo;
        for (int j = 0; j < 16; ++j) m = acc[j] > m ? acc[j] : m;
        y[pl] = m;
      }
    });
    return;
  }
  parallel_for(batch, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      float* yo = y + n * channels;
      std::fill(yo, yo + channels, lo);
      for (int64_t s = 0; s < spatial; ++s) {
        const float* xs = x + (n * spatial + s) * channels;
        for (int64_t c = 0; c < channels; ++c) yo[c] = xs[c] > yo[c] ? xs[c] : yo[c];
      }
    }
  });
}

}  // namespace kaiwu::kernels::x86
