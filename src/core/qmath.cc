#include "core/qmath.h"

#include <algorithm>
#include <sstream>

namespace kaiwu::qmath {

QRange qrange(QType t) {
  switch (t) {
    case QType::kInt8: return {-128, 127};
    case QType::kUInt8: return {0, 255};
    case QType::kInt16: return {-32768, 32767};
    case QType::kUInt16: return {0, 65535};
    case QType::kInt32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
  }
  return {0, 0};
}

const char* qtype_name(QType t) {
  switch (t) {
    case QType::kInt8: return "int8";
    case QType::kUInt8: return "uint8";
    case QType::kInt16: return "int16";
    case QType::kUInt16: return "uint16";
    case QType::kInt32: return "int32";
  }
  return "?";
}

namespace {
std::string range_text(float a, float b) {
  std::ostringstream os;
  os << "[" << a << ", " << b << "]";
  return os.str();
}
}  // namespace

Status choose_qparams(float rmin, float rmax, QType t, QScheme scheme, QParams* out) {
  if (!std::isfinite(rmin) || !std::isfinite(rmax))
    return invalid_argument("quantization range " + range_text(rmin, rmax) + " is not finite");
  if (rmin > rmax) return invalid_argument("quantization range " + range_text(rmin, rmax) + " has min > max");
  if (t == QType::kInt32) return invalid_argument("choose_qparams: int32 is not a target type (use int8/uint8/int16/uint16)");
  const QRange r = qrange(t);
  const double lo = std::min<double>(rmin, 0.0), hi = std::max<double>(rmax, 0.0);
  QParams p;
  if (scheme == QScheme::kSymmetric) {
    const int32_t half = (r.qmax - r.qmin) / 2;           // 127 or 32767
    p.zero_point = r.qmin < 0 ? 0 : (r.qmax + 1) / 2;     // 0, or 128 / 32768 for unsigned types
    const double a = std::max(-lo, hi);
    if (a == 0.0) {
      p.scale = 1.f;
    } else {
      p.scale = static_cast<float>(a / half);
      if (!(p.scale >= kMinScale)) p.scale = kMinScale;
    }
  } else {
    if (hi == lo) {
      p.scale = 1.f;
      p.zero_point = std::clamp(0, r.qmin, r.qmax);
    } else {
      p.scale = static_cast<float>((hi - lo) / (static_cast<double>(r.qmax) - r.qmin));
      if (!(p.scale >= kMinScale)) p.scale = kMinScale;
      double zp = round_half_even(r.qmin - lo / static_cast<double>(p.scale));
      p.zero_point = static_cast<int32_t>(std::clamp<double>(zp, r.qmin, r.qmax));
    }
  }
  *out = p;
  return Status::Ok();
}

Status validate_qparams(const QParams& p, QType t) {
  if (!std::isfinite(p.scale) || !(p.scale > 0.f)) {
    std::ostringstream os;
    os << "quantization scale " << p.scale << " is not a finite positive number";
    return invalid_argument(os.str());
  }
  QRange r = qrange(t);
  if (p.zero_point < r.qmin || p.zero_point > r.qmax)
    return invalid_argument("zero point " + std::to_string(p.zero_point) + " is outside the " + qtype_name(t) +
                            " range");
  return Status::Ok();
}

template <typename T>
static constexpr QRange range_of() {
  return {static_cast<int32_t>(std::numeric_limits<T>::min()), static_cast<int32_t>(std::numeric_limits<T>::max())};
}

template <typename T>
void quantize_array(const float* x, T* y, int64_t n, float scale, int32_t zp) {
  constexpr QRange r = range_of<T>();
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(quantize_value(x[i], scale, zp, r));
}

template <typename T>
void dequantize_array(const T* x, float* y, int64_t n, float scale, int32_t zp) {
  for (int64_t i = 0; i < n; ++i) y[i] = dequantize_value(x[i], scale, zp);
}

template <typename T>
void quantize_per_axis(const float* x, T* y, int64_t outer, int64_t channels, int64_t inner, const float* scales,
                       const int32_t* zps) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      int64_t off = (o * channels + c) * inner;
      quantize_array<T>(x + off, y + off, inner, scales[c], zps ? zps[c] : 0);
    }
}

template <typename T>
void dequantize_per_axis(const T* x, float* y, int64_t outer, int64_t channels, int64_t inner, const float* scales,
                         const int32_t* zps) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      int64_t off = (o * channels + c) * inner;
      dequantize_array<T>(x + off, y + off, inner, scales[c], zps ? zps[c] : 0);
    }
}

#define KW_QMATH_INSTANTIATE(T)                                                                                      \
  template void quantize_array<T>(const float*, T*, int64_t, float, int32_t);                                        \
  template void dequantize_array<T>(const T*, float*, int64_t, float, int32_t);                                      \
  template void quantize_per_axis<T>(const float*, T*, int64_t, int64_t, int64_t, const float*, const int32_t*);    \
  template void dequantize_per_axis<T>(const T*, float*, int64_t, int64_t, int64_t, const float*, const int32_t*);
KW_QMATH_INSTANTIATE(int8_t)
KW_QMATH_INSTANTIATE(uint8_t)
KW_QMATH_INSTANTIATE(int16_t)
KW_QMATH_INSTANTIATE(uint16_t)
KW_QMATH_INSTANTIATE(int32_t)
#undef KW_QMATH_INSTANTIATE

// ---- Fixed point ----

Status quantize_multiplier(double real, FixedMultiplier* out) {
  if (!std::isfinite(real) || !(real > 0.0)) {
    std::ostringstream os;
    os << "requantization multiplier " << real << " is not a finite positive number";
    return invalid_argument(os.str());
  }
  int e = 0;
  double f = std::frexp(real, &e);  // real = f * 2^e, f in [0.5, 1)
  int64_t q = static_cast<int64_t>(round_half_even(f * 2147483648.0));  // in [2^30, 2^31]
  if (q == (int64_t{1} << 31)) {
    q >>= 1;
    ++e;
  }
  if (e > 31) {
    std::ostringstream os;
    os << "requantization multiplier " << real << " is too large (must be < 2^31)";
    return invalid_argument(os.str());
  }
  if (e < -31) {  // real < 2^-32: |x * real| < 0.5 for every int32 x
    *out = FixedMultiplier{0, 0};
    return Status::Ok();
  }
  *out = FixedMultiplier{static_cast<int32_t>(q), e};
  return Status::Ok();
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == a) return std::numeric_limits<int32_t>::max();
  int64_t ab = static_cast<int64_t>(a) * b;  // |ab| <= 2^62 here
  constexpr int64_t half = int64_t{1} << 30;
  int64_t r = ab >= 0 ? (ab + half) >> 31 : -((-ab + half) >> 31);
  return static_cast<int32_t>(r);
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent <= 0) return x;
  int64_t v = x;
  int64_t half = int64_t{1} << (exponent - 1);
  int64_t r = v >= 0 ? (v + half) >> exponent : -((-v + half) >> exponent);
  return static_cast<int32_t>(r);
}

int32_t multiply_by_fixed(int32_t x, FixedMultiplier m) {
  if (m.multiplier == 0) return 0;
  if (m.shift > 0) {  // x * multiplier * 2^shift / 2^31 in 128 bits: one rounding, then saturation
    __int128 p = static_cast<__int128>(x) * m.multiplier * (int64_t{1} << m.shift);
    constexpr __int128 half = static_cast<__int128>(1) << 30;
    __int128 r = p >= 0 ? (p + half) >> 31 : -((-p + half) >> 31);
    return saturate_cast<int32_t>(static_cast<int64_t>(r > INT64_MAX ? INT64_MAX : (r < INT64_MIN ? INT64_MIN : r)));
  }
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, m.multiplier), -m.shift);
}

}  // namespace kaiwu::qmath
