#include "kernels/ref/qpool.h"

#include "kernels/ref/conv.h"
#include "kernels/ref/qelementwise.h"

#pragma GCC optimize("fp-contract=off")

namespace kaiwu::kernels::ref {
namespace {

template <typename TX, typename TY>
void qgap_t(const TX* x, TY* y, int64_t batch, int64_t channels, int64_t spatial, ActLayout layout,
            const QPoolQuant& q) {
  const float m = qpool_multiplier(q, spatial), zy = static_cast<float>(q.zy);
  const int32_t offset = static_cast<int32_t>(spatial) * q.zx;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      int32_t sum = 0;
      for (int64_t s = 0; s < spatial; ++s)
        sum += layout == ActLayout::kNCHW ? x[(n * channels + c) * spatial + s] : x[(n * spatial + s) * channels + c];
      const float v = static_cast<float>(sum - offset) * m;
      y[n * channels + c] = spatial ? q_finish<TY>(v, zy) : q_finish<TY>(0.f, zy);
    }
}

template <typename TX, typename TY>
void qavg_t(const TX* x, TY* y, const PoolParams& p, const QPoolQuant& q) {
  // Pad the window to 3 spatial dims (leading dims of size 1).
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  const int r = static_cast<int>(p.in_dims.size()), off = 3 - r;
  for (int i = 0; i < 3; ++i) {
    const int j = i - off;
    const bool real = j >= 0;
    in[i] = real ? p.in_dims[j] : 1;
    out[i] = real ? p.out_dims[j] : 1;
    k[i] = real ? p.kernel[j] : 1;
    s[i] = real ? p.strides[j] : 1;
    d[i] = real ? p.dilations[j] : 1;
    pb[i] = real ? p.pads_begin[j] : 0;
    pe[i] = real ? p.pads_end[j] : 0;
  }
  const float zy = static_cast<float>(q.zy);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t oz = 0; oz < out[0]; ++oz)
        for (int64_t oy = 0; oy < out[1]; ++oy)
          for (int64_t ox = 0; ox < out[2]; ++ox) {
            const int64_t o[3] = {oz, oy, ox};
            int32_t sum = 0;
            int64_t count = 0, padded = 0;
            for (int64_t kz = 0; kz < k[0]; ++kz)
              for (int64_t ky = 0; ky < k[1]; ++ky)
                for (int64_t kx = 0; kx < k[2]; ++kx) {
                  const int64_t kk[3] = {kz, ky, kx};
                  int64_t i[3];
                  bool inside = true, in_padded = true;
                  for (int a = 0; a < 3; ++a) {
                    i[a] = o[a] * s[a] - pb[a] + kk[a] * d[a];
                    inside = inside && i[a] >= 0 && i[a] < in[a];
                    in_padded = in_padded && i[a] >= -pb[a] && i[a] < in[a] + pe[a];
                  }
                  if (in_padded) ++padded;
                  if (!inside) continue;
                  sum += static_cast<int32_t>(x[act_offset(p.layout, n, c, i[0], i[1], i[2], p.channels, in)]) - q.zx;
                  ++count;
                }
            const int64_t div = p.count_include_pad ? padded : count;
            const float v = div ? static_cast<float>(sum) * qpool_multiplier(q, div) : 0.f;
            y[act_offset(p.layout, n, c, oz, oy, ox, p.channels, out)] = q_finish<TY>(v, zy);
          }
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

void qavg_pool(DType xt, const void* x, DType yt, void* y, const PoolParams& p, const QPoolQuant& q) {
  dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      qavg_t<TX, TY>(static_cast<const TX*>(x), static_cast<TY*>(y), p, q);
    });
  });
}

}  // namespace kaiwu::kernels::ref
