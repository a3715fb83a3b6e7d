#include "kernels/ref/conv_transpose.h"

#include <algorithm>
#include <vector>

namespace kaiwu::kernels::ref {

void conv_transpose_f32(const ConvParams& p, const float* src, const float* weights, const float* bias, float* dst,
                        int64_t unit_begin, int64_t unit_end) {
  const Spatial3 g = to_spatial3(p);
  const int64_t icg = p.in_channels / p.groups, ocg = p.out_channels / p.groups;
  const int64_t out_plane = g.out[0] * g.out[1] * g.out[2];
  std::vector<double> acc(static_cast<size_t>(out_plane));
  if (unit_end < 0) unit_end = p.batch * p.out_channels;
  for (int64_t unit = unit_begin; unit < unit_end; ++unit) {
    const int64_t n = unit / p.out_channels, oc = unit % p.out_channels;
    const int64_t grp = oc / ocg, oc_in_g = oc % ocg;
    std::fill(acc.begin(), acc.end(), p.has_bias && bias ? bias[oc] : 0.0);
    // Scatter every input tap of this group into the output plane of channel oc.
    for (int64_t ic = 0; ic < icg; ++ic) {
      const int64_t c = grp * icg + ic;
      for (int64_t iz = 0; iz < g.in[0]; ++iz)
        for (int64_t iy = 0; iy < g.in[1]; ++iy)
          for (int64_t ix = 0; ix < g.in[2]; ++ix) {
            const double x = src[act_offset(p.src_layout, n, c, iz, iy, ix, p.in_channels, g.in)];
            for (int64_t kz = 0; kz < g.k[0]; ++kz) {
              int64_t oz = iz * g.s[0] - g.pb[0] + kz * g.d[0];
              if (oz < 0 || oz >= g.out[0]) continue;
              for (int64_t ky = 0; ky < g.k[1]; ++ky) {
                int64_t oy = iy * g.s[1] - g.pb[1] + ky * g.d[1];
                if (oy < 0 || oy >= g.out[1]) continue;
                for (int64_t kx = 0; kx < g.k[2]; ++kx) {
                  int64_t ox = ix * g.s[2] - g.pb[2] + kx * g.d[2];
                  if (ox < 0 || ox >= g.out[2]) continue;
                  float w = weights[(((c * ocg + oc_in_g) * g.k[0] + kz) * g.k[1] + ky) * g.k[2] + kx];
                  acc[(oz * g.out[1] + oy) * g.out[2] + ox] += x * w;
                }
              }
            }
          }
    }
    for (int64_t oz = 0; oz < g.out[0]; ++oz)
      for (int64_t oy = 0; oy < g.out[1]; ++oy)
        for (int64_t ox = 0; ox < g.out[2]; ++ox) {
          float* y = dst + act_offset(p.dst_layout, n, oc, oz, oy, ox, p.out_channels, g.out);
          *y = apply_post_ops(p.post_ops, static_cast<float>(acc[(oz * g.out[1] + oy) * g.out[2] + ox]), *y);
        }
  }
}

}  // namespace kaiwu::kernels::ref
