// Element functions of the binary elementwise ops, shared by the reference and the optimized kernels so both
// compute exactly the same thing per element. Integer arithmetic wraps (two's complement) like numpy; integer
// division truncates toward zero like C, with x / 0 = 0 (no trap).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace kaiwu::kernels {

enum class BinaryKind { kAdd, kSub, kMul, kDiv, kPow, kMin, kMax, kEqual, kGreater, kLess, kPRelu };

namespace detail {
// Integers compute in their unsigned counterpart (defined wrap-around); floats as themselves.
template <typename T, bool = std::is_integral_v<T>>
struct WideOf {
  using type = T;
};
template <typename T>
struct WideOf<T, true> {
  using type = std::make_unsigned_t<T>;
};
template <typename T>
using Wide = typename WideOf<T>::type;
template <typename T>
inline T wrap_add(T a, T b) {
  return static_cast<T>(static_cast<Wide<T>>(a) + static_cast<Wide<T>>(b));
}
template <typename T>
inline T wrap_sub(T a, T b) {
  return static_cast<T>(static_cast<Wide<T>>(a) - static_cast<Wide<T>>(b));
}
template <typename T>
inline T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && sizeof(T) < sizeof(unsigned)) {
    return static_cast<T>(static_cast<unsigned>(a) * static_cast<unsigned>(b));  // no promotion to signed int
  } else {
    return static_cast<T>(static_cast<Wide<T>>(a) * static_cast<Wide<T>>(b));
  }
}
template <typename T>
inline T int_div(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return wrap_sub<T>(0, a);
  }
  return static_cast<T>(a / b);
}
// Integer power by squaring; negative exponents give the truncated result (0 unless |base| == 1).
template <typename T>
inline T int_pow(T base, T e) {
  if constexpr (std::is_signed_v<T>) {
    if (e < 0) {
      if (base == 1) return 1;
      if (base == -1) return (e & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  T r = 1;
  while (e) {
    if (e & 1) r = wrap_mul(r, base);
    e = static_cast<T>(e >> 1);
    if (e) base = wrap_mul(base, base);
  }
  return r;
}
}  // namespace detail

template <BinaryKind K, typename T>
struct BinaryOp;

#define KW_BINARY_OP(K, OUT, EXPR)                  \
  template <typename T>                             \
  struct BinaryOp<BinaryKind::K, T> {               \
    using Out = OUT;                                \
    Out operator()(T a, T b) const { return EXPR; } \
  };
KW_BINARY_OP(kAdd, T, detail::wrap_add(a, b))
KW_BINARY_OP(kSub, T, detail::wrap_sub(a, b))
KW_BINARY_OP(kMul, T, detail::wrap_mul(a, b))
// NaN propagates through Min/Max (numpy's minimum/maximum).
KW_BINARY_OP(kMin, T, ((b < a || b != b) ? b : a))
KW_BINARY_OP(kMax, T, ((a < b || b != b) ? b : a))
KW_BINARY_OP(kEqual, uint8_t, static_cast<uint8_t>(a == b))
KW_BINARY_OP(kGreater, uint8_t, static_cast<uint8_t>(a > b))
KW_BINARY_OP(kLess, uint8_t, static_cast<uint8_t>(a < b))
KW_BINARY_OP(kPRelu, T, (a < T(0) ? detail::wrap_mul(a, b) : a))
#undef KW_BINARY_OP

template <typename T>
struct BinaryOp<BinaryKind::kDiv, T> {
  using Out = T;
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      return detail::int_div(a, b);
    } else {
      return a / b;
    }
  }
};

template <typename T>
struct BinaryOp<BinaryKind::kPow, T> {
  using Out = T;
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      return detail::int_pow(a, b);
    } else {
      return static_cast<T>(std::pow(a, b));
    }
  }
};

}  // namespace kaiwu::kernels
