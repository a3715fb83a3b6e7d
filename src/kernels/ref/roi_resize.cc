#include "kernels/ref/roi_resize.h"

#include <algorithm>
#include <cmath>

namespace kaiwu::kernels::ref {

std::string check_roi(const int32_t* roi, int64_t frame_h, int64_t frame_w) {
  const int64_t l = roi[0], t = roi[1], r = roi[2], b = roi[3];
  const std::string txt = "(left " + std::to_string(l) + ", top " + std::to_string(t) + ", right " +
                          std::to_string(r) + ", bottom " + std::to_string(b) + ")";
  if (r < l || b < t) return "ROI " + txt + " is empty: it needs right >= left and bottom >= top";
  if (l < 0 || t < 0 || r >= frame_w || b >= frame_h)
    return "ROI " + txt + " is not inside the " + std::to_string(frame_w) + "x" + std::to_string(frame_h) +
           " (width x height) frame: it needs 0 <= left <= right < " + std::to_string(frame_w) +
           " and 0 <= top <= bottom < " + std::to_string(frame_h);
  return "";
}

void roi_axis(int64_t start, int64_t len, int sub, int64_t n_out, int64_t plane, RoiAxis* out) {
  out->i0.resize(n_out);
  out->i1.resize(n_out);
  out->w.resize(n_out);
  const double step = static_cast<double>(len) / static_cast<double>(n_out);
  for (int64_t o = 0; o < n_out; ++o) {
    double p = (static_cast<double>(start) + (static_cast<double>(o) + 0.5) * step) / sub - 0.5;
    p = std::min(std::max(p, 0.0), static_cast<double>(plane - 1));
    int64_t i0 = static_cast<int64_t>(std::floor(p));
    int64_t wq = static_cast<int64_t>(std::floor((p - static_cast<double>(i0)) * 2048.0 + 0.5));
    if (wq >= 2048) ++i0, wq = 0;
    i0 = std::min(i0, plane - 1);
    out->i0[o] = static_cast<int32_t>(i0);
    out->i1[o] = static_cast<int32_t>(std::min(i0 + 1, plane - 1));
    out->w[o] = static_cast<int32_t>(wq);
  }
}

namespace {

template <int C>
void rows(const uint8_t* src, int64_t stride, const RoiAxis& ay, const RoiAxis& ax, uint8_t* dst, int64_t row_begin,
          int64_t row_end) {
  const int64_t ow = static_cast<int64_t>(ax.i0.size());
  const int32_t* xi0 = ax.i0.data();
  const int32_t* xi1 = ax.i1.data();
  const int32_t* xw = ax.w.data();
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    const uint8_t* r0 = src + ay.i0[oy] * stride;
    const uint8_t* r1 = src + ay.i1[oy] * stride;
    const int32_t wy = ay.w[oy], wy0 = 2048 - wy;
    uint8_t* d = dst + oy * ow * C;
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int64_t x0 = int64_t{xi0[ox]} * C, x1 = int64_t{xi1[ox]} * C;
      const int32_t wx = xw[ox], wx0 = 2048 - wx;
      for (int c = 0; c < C; ++c) {
        const int32_t top = r0[x0 + c] * wx0 + r0[x1 + c] * wx;
        const int32_t bot = r1[x0 + c] * wx0 + r1[x1 + c] * wx;
        d[ox * C + c] = static_cast<uint8_t>((top * wy0 + bot * wy + (1 << 21)) >> 22);
      }
    }
  }
}

}  // namespace

void roi_resize_plane(const uint8_t* src, int64_t src_w, int channels, const RoiAxis& ay, const RoiAxis& ax,
                      uint8_t* dst, int64_t row_begin, int64_t row_end) {
  if (channels == 1) rows<1>(src, src_w, ay, ax, dst, row_begin, row_end);
  else if (channels == 2) rows<2>(src, src_w * 2, ay, ax, dst, row_begin, row_end);
  else  // any other channel count (the op itself uses 1 for Y and 2 for UV)
    for (int64_t oy = row_begin; oy < row_end; ++oy)
      for (int64_t ox = 0; ox < static_cast<int64_t>(ax.i0.size()); ++ox)
        for (int c = 0; c < channels; ++c) {
          const uint8_t* r0 = src + ay.i0[oy] * src_w * channels;
          const uint8_t* r1 = src + ay.i1[oy] * src_w * channels;
          const int64_t x0 = int64_t{ax.i0[ox]} * channels + c, x1 = int64_t{ax.i1[ox]} * channels + c;
          const int32_t top = r0[x0] * (2048 - ax.w[ox]) + r0[x1] * ax.w[ox];
          const int32_t bot = r1[x0] * (2048 - ax.w[ox]) + r1[x1] * ax.w[ox];
          dst[(oy * static_cast<int64_t>(ax.i0.size()) + ox) * channels + c] =
              static_cast<uint8_t>((top * (2048 - ay.w[oy]) + bot * ay.w[oy] + (1 << 21)) >> 22);
        }
}

}  // namespace kaiwu::kernels::ref
