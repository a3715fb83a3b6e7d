#include "kernels/ref/cast.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/half.h"

namespace kaiwu::kernels::ref {

namespace {

struct F16 {
  uint16_t v;
};  // storage tags for types C++ lacks or represents differently
struct B8 {
  uint8_t v;
};

template <typename To>
To float_to_int(double v) {
  constexpr double k2p31 = 2147483648.0, k2p63 = 9223372036854775808.0;
  if constexpr (std::is_same_v<To, uint64_t>) {
    if (v >= k2p63 && v < 2 * k2p63) return static_cast<uint64_t>(v);
  }
  if constexpr (sizeof(To) < 4 || std::is_same_v<To, int32_t>) {
    int32_t i = (std::isnan(v) || v >= k2p31 || v <= -k2p31 - 1.0) ? std::numeric_limits<int32_t>::min()
                                                                   : static_cast<int32_t>(v);
    return static_cast<To>(i);
  } else {
    int64_t i =
        (std::isnan(v) || v >= k2p63 || v < -k2p63) ? std::numeric_limits<int64_t>::min() : static_cast<int64_t>(v);
    return static_cast<To>(i);
  }
}

template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_same_v<From, F16>) {
    return convert<To>(half_to_float(v.v));
  } else if constexpr (std::is_same_v<From, B8>) {
    return convert<To>(static_cast<uint8_t>(v.v != 0));
  } else if constexpr (std::is_same_v<To, F16>) {
    if constexpr (std::is_same_v<From, float>)
      return F16{float_to_half(v)};
    else
      return F16{double_to_half(static_cast<double>(v))};
  } else if constexpr (std::is_same_v<To, B8>) {
    return B8{static_cast<uint8_t>(v != From(0))};
  } else if constexpr (std::is_floating_point_v<To> || !std::is_floating_point_v<From>) {
    return static_cast<To>(v);
  } else {
    return float_to_int<To>(static_cast<double>(v));
  }
}

template <typename From, typename To>
void loop(const void* x, void* y, int64_t n) {
  const From* px = static_cast<const From*>(x);
  To* py = static_cast<To*>(y);
  for (int64_t i = 0; i < n; ++i) py[i] = convert<To>(px[i]);
}

template <typename From>
bool to_any(const void* x, DType to, void* y, int64_t n) {
  switch (to) {
    case DType::kF32: loop<From, float>(x, y, n); return true;
    case DType::kF16: loop<From, F16>(x, y, n); return true;
    case DType::kF64: loop<From, double>(x, y, n); return true;
    case DType::kI8: loop<From, int8_t>(x, y, n); return true;
    case DType::kU8: loop<From, uint8_t>(x, y, n); return true;
    case DType::kI16: loop<From, int16_t>(x, y, n); return true;
    case DType::kU16: loop<From, uint16_t>(x, y, n); return true;
    case DType::kI32: loop<From, int32_t>(x, y, n); return true;
    case DType::kU32: loop<From, uint32_t>(x, y, n); return true;
    case DType::kI64: loop<From, int64_t>(x, y, n); return true;
    case DType::kU64: loop<From, uint64_t>(x, y, n); return true;
    case DType::kBool: loop<From, B8>(x, y, n); return true;
    case DType::kUndefined: return false;
  }
  return false;
}

}  // namespace

uint16_t double_to_half(double d) {
  const uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return sign | 0x7e00;
  double a = std::fabs(d);
  if (a < std::ldexp(1.0, -14)) {  // subnormal (or rounds up to the smallest normal, which encodes the same way)
    double m = std::nearbyint(std::ldexp(a, 24));
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(m));
  }
  if (std::isinf(a)) return sign | 0x7c00;
  int e;
  std::frexp(a, &e);                                 // a = f * 2^e, f in [0.5, 1)
  e -= 1;                                            // a in [2^e, 2^(e+1))
  double m = std::nearbyint(std::ldexp(a, 10 - e));  // in [1024, 2048]
  if (m >= 2048.0) {
    m = 1024.0;
    ++e;
  }
  if (e > 15) return sign | 0x7c00;
  return static_cast<uint16_t>(sign | ((e + 15) << 10) | (static_cast<uint16_t>(m) - 1024));
}

bool cast(DType from, const void* x, DType to, void* y, int64_t n) {
  if (from == to) {
    if (from == DType::kUndefined) return false;
    std::memcpy(y, x, static_cast<size_t>(n) * dtype_size(from));
    return true;
  }
  switch (from) {
    case DType::kF32: return to_any<float>(x, to, y, n);
    case DType::kF16: return to_any<F16>(x, to, y, n);
    case DType::kF64: return to_any<double>(x, to, y, n);
    case DType::kI8: return to_any<int8_t>(x, to, y, n);
    case DType::kU8: return to_any<uint8_t>(x, to, y, n);
    case DType::kI16: return to_any<int16_t>(x, to, y, n);
    case DType::kU16: return to_any<uint16_t>(x, to, y, n);
    case DType::kI32: return to_any<int32_t>(x, to, y, n);
    case DType::kU32: return to_any<uint32_t>(x, to, y, n);
    case DType::kI64: return to_any<int64_t>(x, to, y, n);
    case DType::kU64: return to_any<uint64_t>(x, to, y, n);
    case DType::kBool: return to_any<B8>(x, to, y, n);
    case DType::kUndefined: return false;
  }
  return false;
}

}  // namespace kaiwu::kernels::ref
