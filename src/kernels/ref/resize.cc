#include "kernels/ref/resize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace kaiwu::kernels::ref {

namespace {

// Source coordinate of output index `o` on an axis; sets *outside for tf_crop_and_resize out-of-range samples.
double source_coord(const ResizeParams& p, int axis, int64_t o, bool* outside) {
  const double in = static_cast<double>(p.in_shape[axis]), scale = p.scales[axis];
  const double out_f = scale * in;  // the "real" output length
  const int64_t out_i = p.out_shape[axis];
  const double x = static_cast<double>(o);
  *outside = false;
  switch (p.coord) {
    case ResizeCoord::kAlignCorners: return out_f == 1 ? 0.0 : x * (in - 1) / (out_f - 1);
    case ResizeCoord::kAsymmetric: return x / scale;
    case ResizeCoord::kTfHalfPixelForNn: return (x + 0.5) / scale;
    case ResizeCoord::kPytorchHalfPixel: return out_f == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case ResizeCoord::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case ResizeCoord::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out_i) / out_f;
      const double offset = in / 2 * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case ResizeCoord::kTfCropAndResize: {
      const double s = p.roi_start[axis], e = p.roi_end[axis];
      double v = out_f == 1 ? (e - s) * (in - 1) / 2 : x * (e - s) * (in - 1) / (out_f - 1);
      v += s * (in - 1);
      *outside = v < 0 || v > in - 1;
      return v;
    }
  }
  return x;
}

double cubic_weight(double d, double a) {  // Keys cubic kernel at distance |d|
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0.0;
}

}  // namespace

ResizeTaps resize_axis_taps(const ResizeParams& p, int axis) {
  ResizeTaps t;
  const int64_t in = p.in_shape[axis], out = p.out_shape[axis];
  const bool crop = p.coord == ResizeCoord::kTfCropAndResize &&
                    (p.roi_start[axis] != 0.0 || p.roi_end[axis] != 1.0);
  t.outside.assign(out, 0);
  if (out == in && std::fabs(p.scales[axis] - 1.0) < 1e-9 && !crop) {
    t.identity = true;
    for (int64_t o = 0; o < out; ++o) {
      t.index.push_back(o);
      t.weight.push_back(1.0);
    }
    return t;
  }
  const double scale = p.scales[axis];
  const double aa_scale = p.antialias ? std::min(scale, 1.0) : 1.0;
  // Tap offsets relative to floor(x): [first, first + taps).
  int64_t first = 0;
  switch (p.mode) {
    case ResizeMode::kNearest: t.taps = 1; break;
    case ResizeMode::kLinear:
      first = p.antialias ? static_cast<int64_t>(std::floor(-1.0 / aa_scale)) + 1 : 0;
      t.taps = 2 - 2 * first;
      break;
    case ResizeMode::kCubic:
      first = p.antialias ? static_cast<int64_t>(std::floor(-2.0 / aa_scale)) + 1 : -1;
      t.taps = 2 - 2 * first;
      break;
  }
  for (int64_t o = 0; o < out; ++o) {
    bool outside = false;
    const double x = source_coord(p, axis, o, &outside);
    t.outside[o] = outside;
    const double fl = std::floor(x);
    const double r = x - fl;
    const int64_t base = static_cast<int64_t>(fl);
    if (p.mode == ResizeMode::kNearest) {
      int64_t i = base;
      const bool integer = r == 0.0;
      switch (p.nearest) {
        case ResizeNearest::kRoundPreferFloor: i = integer || r <= 0.5 ? base : base + 1; break;
        case ResizeNearest::kRoundPreferCeil: i = integer || r < 0.5 ? base : base + 1; break;
        case ResizeNearest::kFloor: i = base; break;
        case ResizeNearest::kCeil: i = integer ? base : base + 1; break;
        case ResizeNearest::kSimple: i = scale < 1.0 ? static_cast<int64_t>(std::ceil(x)) : base; break;
      }
      t.index.push_back(std::min(std::max<int64_t>(i, 0), in - 1));
      t.weight.push_back(1.0);
      continue;
    }
    std::vector<double> w(t.taps);
    double sum = 0;
    for (int64_t j = 0; j < t.taps; ++j) {
      const double d = static_cast<double>(first + j) - r;  // signed distance of the tap from x
      if (p.mode == ResizeMode::kLinear) w[j] = std::max(0.0, 1.0 - std::fabs(d * aa_scale));
      else w[j] = cubic_weight(d * aa_scale, p.cubic_a);
      sum += w[j];
    }
    if (p.antialias && sum != 0)
      for (double& v : w) v /= sum;
    if (p.exclude_outside) {
      double s2 = 0;
      for (int64_t j = 0; j < t.taps; ++j) {
        int64_t i = base + first + j;
        if (i < 0 || i >= in) w[j] = 0;
        s2 += w[j];
      }
      if (s2 != 0)
        for (double& v : w) v /= s2;
    }
    for (int64_t j = 0; j < t.taps; ++j) {
      t.index.push_back(std::min(std::max<int64_t>(base + first + j, 0), in - 1));
      t.weight.push_back(w[j]);
    }
  }
  return t;
}

template <typename T>
void resize(const ResizeParams& p, const T* x, T* y) {
  const int r = static_cast<int>(p.in_shape.size());
  std::vector<ResizeTaps> taps;
  for (int a = 0; a < r; ++a) taps.push_back(resize_axis_taps(p, a));
  std::vector<int64_t> in_strides(r, 1);
  for (int a = r - 1; a > 0; --a) in_strides[a - 1] = in_strides[a] * p.in_shape[a];
  int64_t total = 1;
  for (int64_t d : p.out_shape) total *= d;
  std::vector<int64_t> o(r, 0), t(r, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    bool outside = false;
    for (int a = 0; a < r; ++a) outside = outside || taps[a].outside[o[a]];
    double acc = 0;
    if (!outside) {
      // Sum over the tensor product of the axes' taps.
      std::fill(t.begin(), t.end(), 0);
      while (true) {
        double w = 1;
        int64_t off = 0;
        for (int a = 0; a < r; ++a) {
          const int64_t k = o[a] * taps[a].taps + t[a];
          w *= taps[a].weight[k];
          off += taps[a].index[k] * in_strides[a];
        }
        if (w != 0) acc += w * static_cast<double>(x[off]);
        int a = r - 1;
        for (; a >= 0; --a) {
          if (++t[a] < taps[a].taps) break;
          t[a] = 0;
        }
        if (a < 0) break;
      }
    }
    double v = outside ? p.extrapolation_value : acc;
    if constexpr (std::is_integral<T>::value) {
      v = std::nearbyint(v);
      const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<T>::max());
      v = v < lo ? lo : (v > hi ? hi : v);
    }
    y[flat] = static_cast<T>(v);
    for (int a = r - 1; a >= 0; --a) {
      if (++o[a] < p.out_shape[a]) break;
      o[a] = 0;
    }
  }
}

template void resize<float>(const ResizeParams&, const float*, float*);
template void resize<double>(const ResizeParams&, const double*, double*);
template void resize<int8_t>(const ResizeParams&, const int8_t*, int8_t*);
template void resize<uint8_t>(const ResizeParams&, const uint8_t*, uint8_t*);
template void resize<int16_t>(const ResizeParams&, const int16_t*, int16_t*);
template void resize<int32_t>(const ResizeParams&, const int32_t*, int32_t*);
template void resize<int64_t>(const ResizeParams&, const int64_t*, int64_t*);

}  // namespace kaiwu::kernels::ref
