// Pure quantization maths shared by kernels and the quantizer: rounding, saturating casts, choosing scale and zero
// point from a float range, (de)quantization of values and arrays, and fixed-point requantization multipliers.
//
// Conventions (those of ONNX QuantizeLinear / DequantizeLinear):
//   q = saturate(round_half_even(x / scale) + zero_point)      x = (q - zero_point) * scale
// Division (not multiplication by 1/scale) is used so results are bit-exact with the ONNX reference. A NaN input
// quantizes to the zero point (it dequantizes to 0); +-Inf saturates.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "kaiwu/status.h"

namespace kaiwu::qmath {

// ---- Rounding and saturating casts -------------------------------------------------------------------------------

// Rounds to the nearest integer, ties to even (independent of the FP rounding mode). NaN and +-Inf pass through.
inline float round_half_even(float x) { return __builtin_roundevenf(x); }
inline double round_half_even(double x) { return __builtin_roundeven(x); }

// Clamps an integer to T's range.
template <typename T>
inline T saturate_cast(int64_t v) {
  constexpr int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  return static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
}

template <typename T>
inline T saturate_cast(int32_t v) { return saturate_cast<T>(static_cast<int64_t>(v)); }

// Rounds half to even and clamps to T's range; NaN gives 0, +-Inf the range ends.
template <typename T>
inline T saturate_cast(double v) {
  if (std::isnan(v)) return T(0);
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  double r = round_half_even(v);
  if (r <= lo) return std::numeric_limits<T>::min();
  if (r >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(r);
}
template <typename T>
inline T saturate_cast(float v) { return saturate_cast<T>(static_cast<double>(v)); }

// ---- Quantized types and parameters ------------------------------------------------------------------------------

enum class QType { kInt8, kUInt8, kInt16, kUInt16, kInt32 };

struct QRange {
  int32_t qmin = 0, qmax = 0;
};

// The full integer range of a type ([-128, 127] for int8, ...).
QRange qrange(QType t);
// "int8", "uint8", ...
const char* qtype_name(QType t);

struct QParams {
  float scale = 1.f;
  int32_t zero_point = 0;
};

enum class QScheme {
  kAsymmetric,  // [min(rmin,0), max(rmax,0)] maps onto the full range [qmin, qmax]; 0 is exact
  kSymmetric,   // [-a, a] with a = max(|rmin|, |rmax|) maps onto [mid-h, mid+h] (int8: [-127, 127], zp 0;
                // uint8: [1, 255], zp 128), so the range is narrow and symmetric around the zero point
};

// Smallest scale choose_qparams returns (the smallest normal float): scales are never 0, denormal or Inf.
constexpr float kMinScale = std::numeric_limits<float>::min();

// Scale and zero point for the float range [rmin, rmax] (rmin <= rmax, both finite) and a type among int8, uint8,
// int16, uint16. The range is first widened to contain 0. Guards: a NaN/Inf bound or rmin > rmax gives an
// invalid_argument error; a range of exactly 0 gives scale 1 (every value quantizes to the zero point, which
// dequantizes to 0 exactly); a range so small that the scale would underflow gets scale kMinScale.
Status choose_qparams(float rmin, float rmax, QType t, QScheme scheme, QParams* out);

// Ok if scale is finite and > 0 and the zero point lies in t's range.
Status validate_qparams(const QParams& p, QType t);

// ---- Quantize / dequantize ---------------------------------------------------------------------------------------

// saturate(round_half_even(x / scale) + zp) within [r.qmin, r.qmax]; NaN gives zp.
inline int32_t quantize_value(float x, float scale, int32_t zp, QRange r) {
  float v = round_half_even(x / scale);
  if (std::isnan(v)) v = 0.f;
  double q = static_cast<double>(v) + zp;
  if (q <= r.qmin) return r.qmin;
  if (q >= r.qmax) return r.qmax;
  return static_cast<int32_t>(q);
}
// (q - zp) * scale, computed as (float(q) - float(zp)) * scale like the ONNX reference.
inline float dequantize_value(int32_t q, float scale, int32_t zp) {
  return (static_cast<float>(q) - static_cast<float>(zp)) * scale;
}

// y[i] = quantize_value(x[i]) into T's range, per tensor. T: int8_t, uint8_t, int16_t, uint16_t, int32_t.
template <typename T>
void quantize_array(const float* x, T* y, int64_t n, float scale, int32_t zp);
// y[i] = dequantize_value(x[i]), per tensor. T: int8_t, uint8_t, int16_t, uint16_t, int32_t.
template <typename T>
void dequantize_array(const T* x, float* y, int64_t n, float scale, int32_t zp);

// Per-axis: x is viewed as [outer, channels, inner]; channel c uses scales[c] and zps[c] (zps may be null: 0).
template <typename T>
void quantize_per_axis(const float* x, T* y, int64_t outer, int64_t channels, int64_t inner, const float* scales,
                       const int32_t* zps);
template <typename T>
void dequantize_per_axis(const T* x, float* y, int64_t outer, int64_t channels, int64_t inner, const float* scales,
                         const int32_t* zps);

// ---- Fixed-point requantization -----------------------------------------------------------------------------------

// A positive real multiplier M represented as multiplier * 2^(shift - 31), multiplier in [2^30, 2^31).
// multiplier == 0 (with shift 0) represents a multiplier so small that every int32 input maps to 0.
struct FixedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;  // in [-31, 31]: > 0 scales up by 2^shift, < 0 rounds right after the high multiply
};

// Decomposes real (finite, > 0, < 2^31) into a FixedMultiplier; the relative error of the representation is at
// most 2^-31. Reals below 2^-32 become {0, 0} (the exact product rounds to 0 for every int32). Otherwise error.
Status quantize_multiplier(double real, FixedMultiplier* out);

// round(a * b / 2^31), ties away from zero, saturated to int32 (only a == b == INT32_MIN saturates).
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
// round(x / 2^exponent), ties away from zero; exponent in [0, 31].
int32_t rounding_divide_by_pot(int32_t x, int exponent);
// x * M in fixed point, saturated to int32. shift <= 0: rounding doubling high multiply, then rounding right shift
// by -shift (two roundings, ties away from zero). shift > 0: the left-shifted product rounded once (ties away).
// For |x * M| < 2^30 the result differs from round_half_even(x * M) (exact real maths) by at most 1.
int32_t multiply_by_fixed(int32_t x, FixedMultiplier m);

}  // namespace kaiwu::qmath
