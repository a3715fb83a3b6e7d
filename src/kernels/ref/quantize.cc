#include "kernels/ref/quantize.h"

#include <algorithm>
#include <limits>

#include "core/half.h"
#include "core/qmath.h"

namespace kaiwu::kernels::ref {

namespace {

template <typename T>
constexpr qmath::QRange range_of() {
  return {static_cast<int32_t>(std::numeric_limits<T>::min()), static_cast<int32_t>(std::numeric_limits<T>::max())};
}

// One value: the quotient q (already of the input's precision) rounded, offset and clamped.
template <typename T>
inline T finish(double q, int32_t zp) {
  constexpr qmath::QRange r = range_of<T>();
  double v = qmath::round_half_even(q);
  if (v != v) v = 0.0;
  v += zp;
  if (v <= r.qmin) return static_cast<T>(r.qmin);
  if (v >= r.qmax) return static_cast<T>(r.qmax);
  return static_cast<T>(v);
}

template <typename T>
void quantize_typed(DType xt, const void* x, T* y, const QuantizeLinearParams& p, int64_t begin, int64_t end) {
  for_each_channel_segment(p.channels, p.inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    const float s = p.scales[c];
    const int32_t zp = p.zero_points ? p.zero_points[c] : 0;
    if (xt == DType::kF32) {
      qmath::quantize_array<T>(static_cast<const float*>(x) + b, y + b, e - b, s, zp);
    } else if (xt == DType::kF16) {
      const uint16_t* xh = static_cast<const uint16_t*>(x);
      if (p.scale_is_f16) {
        for (int64_t i = b; i < e; ++i) y[i] = finish<T>(half_to_float(float_to_half(half_to_float(xh[i]) / s)), zp);
      } else {
        for (int64_t i = b; i < e; ++i) y[i] = finish<T>(half_to_float(xh[i]) / s, zp);
      }
    } else {  // i32: int32 / float32 is a float64 division in numpy
      const int32_t* xi = static_cast<const int32_t*>(x);
      for (int64_t i = b; i < e; ++i) y[i] = finish<T>(static_cast<double>(xi[i]) / static_cast<double>(s), zp);
    }
  });
}

template <typename T, typename Y>
void dequantize_typed(const T* x, Y* y, const QuantizeLinearParams& p, int64_t begin, int64_t end) {
  for_each_channel_segment(p.channels, p.inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    const float s = p.scales[c];
    const float zp = static_cast<float>(p.zero_points ? p.zero_points[c] : 0);
    for (int64_t i = b; i < e; ++i) {
      float v = (static_cast<float>(x[i]) - zp) * s;
      if constexpr (sizeof(Y) == 2) y[i] = float_to_half(v);
      else y[i] = v;
    }
  });
}

template <typename T>
void dequantize_out(const T* x, DType yt, void* y, const QuantizeLinearParams& p, int64_t begin, int64_t end) {
  if (yt == DType::kF16) dequantize_typed(x, static_cast<uint16_t*>(y), p, begin, end);
  else dequantize_typed(x, static_cast<float*>(y), p, begin, end);
}

template <typename T>
void requantize_typed(const int32_t* acc, const int32_t* bias, T* y, int64_t channels, int64_t inner,
                      const float* mult, int32_t zp, int64_t begin, int64_t end) {
  for_each_channel_segment(channels, inner, begin, end, [&](int64_t b, int64_t e, int64_t c) {
    const float m = mult[c];
    const int32_t bc = bias ? bias[c] : 0;
    for (int64_t i = b; i < e; ++i) y[i] = finish<T>(static_cast<float>(acc[i] + bc) * m, zp);
  });
}

}  // namespace

bool quantize_linear_supported(DType xt, DType yt) {
  bool x_ok = xt == DType::kF32 || xt == DType::kF16 || xt == DType::kI32;
  bool y_ok = yt == DType::kU8 || yt == DType::kI8 || yt == DType::kU16 || yt == DType::kI16;
  return x_ok && y_ok;
}

void quantize_linear(DType xt, const void* x, DType yt, void* y, const QuantizeLinearParams& p, int64_t begin,
                     int64_t end) {
  switch (yt) {
    case DType::kU8: quantize_typed(xt, x, static_cast<uint8_t*>(y), p, begin, end); break;
    case DType::kI8: quantize_typed(xt, x, static_cast<int8_t*>(y), p, begin, end); break;
    case DType::kU16: quantize_typed(xt, x, static_cast<uint16_t*>(y), p, begin, end); break;
    case DType::kI16: quantize_typed(xt, x, static_cast<int16_t*>(y), p, begin, end); break;
    default: break;
  }
}

bool dequantize_linear_supported(DType xt, DType yt) {
  bool x_ok = xt == DType::kU8 || xt == DType::kI8 || xt == DType::kU16 || xt == DType::kI16 || xt == DType::kI32;
  return x_ok && (yt == DType::kF32 || yt == DType::kF16);
}

void dequantize_linear(DType xt, const void* x, DType yt, void* y, const QuantizeLinearParams& p, int64_t begin,
                       int64_t end) {
  switch (xt) {
    case DType::kU8: dequantize_out(static_cast<const uint8_t*>(x), yt, y, p, begin, end); break;
    case DType::kI8: dequantize_out(static_cast<const int8_t*>(x), yt, y, p, begin, end); break;
    case DType::kU16: dequantize_out(static_cast<const uint16_t*>(x), yt, y, p, begin, end); break;
    case DType::kI16: dequantize_out(static_cast<const int16_t*>(x), yt, y, p, begin, end); break;
    case DType::kI32: dequantize_out(static_cast<const int32_t*>(x), yt, y, p, begin, end); break;
    default: break;
  }
}

void requantize_s32(const int32_t* acc, const int32_t* bias, DType yt, void* y, int64_t channels, int64_t inner,
                    const float* multipliers, int32_t zero_point, int64_t begin, int64_t end) {
  if (yt == DType::kU8)
    requantize_typed(acc, bias, static_cast<uint8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
  else
    requantize_typed(acc, bias, static_cast<int8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
}

}  // namespace kaiwu::kernels::ref
