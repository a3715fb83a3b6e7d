#include "kernels/x86/resize.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {

bool Resize2d::create(const ResizeParams& p, std::unique_ptr<Resize2d>* out) {
  const int r = static_cast<int>(p.in_shape.size());
  if (r < 2) return false;
  std::unique_ptr<Resize2d> k(new Resize2d());
  for (int a = 0; a < r - 2; ++a) {
    ResizeTaps t = ref::resize_axis_taps(p, a);
    if (!t.identity) return false;
    k->planes_ *= p.in_shape[a];
  }
  Axis* axes[2] = {&k->ah_, &k->aw_};
  for (int j = 0; j < 2; ++j) {
    ResizeTaps t = ref::resize_axis_taps(p, r - 2 + j);
    for (uint8_t o : t.outside)
      if (o) return false;
    if (p.in_shape[r - 2 + j] > (int64_t{1} << 30)) return false;
    Axis& a = *axes[j];
    a.taps = t.taps;
    a.identity = t.identity;
    a.index.assign(t.index.begin(), t.index.end());
    a.weight.assign(t.weight.begin(), t.weight.end());
  }
  k->nearest_ = p.mode == ResizeMode::kNearest;
  k->h_ = p.in_shape[r - 2];
  k->w_ = p.in_shape[r - 1];
  k->oh_ = p.out_shape[r - 2];
  k->ow_ = p.out_shape[r - 1];
  *out = std::move(k);
  return true;
}

void Resize2d::run(const float* x, float* y) const {
  const int64_t H = h_, W = w_, OH = oh_, OW = ow_;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OH * OW));
  if (nearest_) {
    parallel_for(planes_, grain, [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        const float* xp = x + pl * H * W;
        float* yp = y + pl * OH * OW;
        for (int64_t oh = 0; oh < OH; ++oh) {
          const float* row = xp + ah_.index[oh] * W;
          float* yr = yp + oh * OW;
          if (oh > 0 && ah_.index[oh] == ah_.index[oh - 1]) {  // repeated source row
            std::memcpy(yr, yr - OW, OW * sizeof(float));
            continue;
          }
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = row[aw_.index[ow]];
        }
      }
    });
    return;
  }
  parallel_for(planes_, grain, [&](int64_t b, int64_t e) {
    std::vector<float> tmp(aw_.identity ? 0 : H * OW);
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xp = x + pl * H * W;
      float* yp = y + pl * OH * OW;
      // Horizontal pass: every input row resampled to OW columns.
      const float* rows = xp;
      if (!aw_.identity) {
        const int64_t tw = aw_.taps;
        for (int64_t h = 0; h < H; ++h) {
          const float* xr = xp + h * W;
          float* tr = tmp.data() + h * OW;
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int32_t* idx = aw_.index.data() + ow * tw;
            const float* wt = aw_.weight.data() + ow * tw;
            float acc = 0.f;
            for (int64_t t = 0; t < tw; ++t) acc += wt[t] * xr[idx[t]];
            tr[ow] = acc;
          }
        }
        rows = tmp.data();
      }
      // Vertical pass: combine rows, vectorized along the row.
      const int64_t th = ah_.taps;
      for (int64_t oh = 0; oh < OH; ++oh) {
        float* yr = yp + oh * OW;
        if (ah_.identity) {
          std::memcpy(yr, rows + oh * OW, OW * sizeof(float));
          continue;
        }
        const int32_t* idx = ah_.index.data() + oh * th;
        const float* wt = ah_.weight.data() + oh * th;
        std::fill(yr, yr + OW, 0.f);
        for (int64_t t = 0; t < th; ++t) {
          const float w = wt[t];
          if (w == 0.f) continue;
          const float* src = rows + idx[t] * OW;
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] += w * src[ow];
        }
      }
    }
  });
}

}  // namespace kaiwu::kernels::x86
