// Test-side reference of the resizer input source (docs/resizer.md), written from the documented maths in double
// precision: bilinear crop-and-resize of the nv12 planes (half-pixel centres over the inclusive ROI, clamped at the
// frame border, rounded to uint8 as a resizer outputs), 2x nearest chroma upsampling, BT.601 full-range YUV->RGB
// clipped to 0..255 (spec §6), (v - mean) * scale, NCHW float32. Shared by tests/compiler and tests/heavy.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kaiwu/tensor.h"

namespace kaiwu::test {

// One plane (sub 1: Y, 2: UV with ch 2) of a [fh, fw, ch] frame, ROI (l, t, r, b) in luma pixels -> [oh, ow, ch].
inline std::vector<double> crop_resize(const uint8_t* src, int64_t fh, int64_t fw, int ch, const int32_t* roi, int sub,
                                       int64_t oh, int64_t ow) {
  auto coord = [&](int64_t start, int64_t len, int64_t o, int64_t n, int64_t size) {
    double p = (start + (o + 0.5) * double(len) / double(n)) / sub - 0.5;
    return std::min(std::max(p, 0.0), double(size - 1));
  };
  std::vector<double> out(oh * ow * ch);
  for (int64_t oy = 0; oy < oh; ++oy) {
    const double py = coord(roi[1], roi[3] - roi[1] + 1, oy, oh, fh);
    const int64_t y0 = static_cast<int64_t>(py), y1 = std::min(y0 + 1, fh - 1);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const double px = coord(roi[0], roi[2] - roi[0] + 1, ox, ow, fw);
      const int64_t x0 = static_cast<int64_t>(px), x1 = std::min(x0 + 1, fw - 1);
      const double fy = py - y0, fx = px - x0;
      for (int c = 0; c < ch; ++c) {
        auto at = [&](int64_t yy, int64_t xx) { return double(src[(yy * fw + xx) * ch + c]); };
        const double v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        out[(oy * ow + ox) * ch + c] = std::floor(v + 0.5);
      }
    }
  }
  return out;
}

// nv12 frame (y [1,Hf,Wf,1], uv [1,Hf/2,Wf/2,2]) + ROI -> rgb [h, w, 3] in double.
inline std::vector<double> resizer_rgb(const Tensor& y, const Tensor& uv, const int32_t* roi, int64_t h, int64_t w) {
  const int64_t fh = y.shape()[1], fw = y.shape()[2];
  std::vector<double> Y = crop_resize(y.data<uint8_t>(), fh, fw, 1, roi, 1, h, w);
  std::vector<double> UV = crop_resize(uv.data<uint8_t>(), fh / 2, fw / 2, 2, roi, 2, h / 2, w / 2);
  std::vector<double> rgb(h * w * 3);
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) {
      const double* p = &UV[((r / 2) * (w / 2) + c / 2) * 2];
      const double yy = Y[r * w + c], U = p[0] - 128, V = p[1] - 128;
      const double v[3] = {yy + 1.402 * V, yy - 0.344136 * U - 0.714136 * V, yy + 1.772 * U};
      for (int k = 0; k < 3; ++k) rgb[(r * w + c) * 3 + k] = std::clamp(v[k], 0.0, 255.0);
    }
  return rgb;
}

// rgb [h, w, 3] -> (v - mean[c]) * scale[c] as float32 [1, 3, h, w].
inline Tensor normalize_nchw(const std::vector<double>& rgb, int64_t h, int64_t w, const double* mean, const double* scale) {
  Tensor x = Tensor::empty(DType::kF32, {1, 3, h, w});
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < h * w; ++i)
      x.data<float>()[c * h * w + i] = static_cast<float>((rgb[i * 3 + c] - mean[c]) * scale[c]);
  return x;
}

}  // namespace kaiwu::test
