#include "kernels/ref/unary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/half.h"

namespace kaiwu::kernels::ref {

namespace {

template <typename T>
inline T apply(T x, UnaryKind k, T alpha, T beta) {
  switch (k) {
    case UnaryKind::kRelu: return x > T(0) ? x : T(0);
    case UnaryKind::kLeakyRelu: return x < T(0) ? alpha * x : x;
    case UnaryKind::kSigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryKind::kHardSigmoid: return std::max(T(0), std::min(T(1), alpha * x + beta));
    case UnaryKind::kHardSwish: return x * std::max(T(0), std::min(T(1), x / T(6) + T(0.5)));
    case UnaryKind::kTanh: return std::tanh(x);
    case UnaryKind::kErf: return std::erf(x);
    case UnaryKind::kSqrt: return std::sqrt(x);
    case UnaryKind::kExp: return std::exp(x);
    case UnaryKind::kLog: return std::log(x);
    case UnaryKind::kNeg: return -x;
    case UnaryKind::kAbs: return std::fabs(x);
    case UnaryKind::kReciprocal: return T(1) / x;
    case UnaryKind::kClip: return std::min(std::max(x, alpha), beta);
    case UnaryKind::kSquare: return x * x;
    case UnaryKind::kIdentity: return x;
  }
  return x;
}

template <typename T>
void unary_float(const T* x, T* y, int64_t n, const UnaryParams& p) {
  const T a = static_cast<T>(p.alpha), b = static_cast<T>(p.beta);
  // One loop per kind so that each compiles to a tight (vectorizable where possible) loop.
  switch (p.kind) {
#define KW_CASE(K)                                                             \
  case UnaryKind::K:                                                           \
    for (int64_t i = 0; i < n; ++i) y[i] = apply<T>(x[i], UnaryKind::K, a, b); \
    break;
    KW_CASE(kRelu)
    KW_CASE(kLeakyRelu) KW_CASE(kSigmoid) KW_CASE(kHardSigmoid) KW_CASE(kHardSwish) KW_CASE(kTanh) KW_CASE(kErf)
        KW_CASE(kSqrt) KW_CASE(kExp) KW_CASE(kLog) KW_CASE(kNeg) KW_CASE(kAbs) KW_CASE(kReciprocal) KW_CASE(kClip)
            KW_CASE(kSquare) KW_CASE(kIdentity)
#undef KW_CASE
  }
}

// Integers: exact for the sign/selection functions, through double for the rest (then truncated).
template <typename T>
void unary_integer(const T* x, T* y, int64_t n, const UnaryParams& p) {
  using U = std::make_unsigned_t<T>;
  for (int64_t i = 0; i < n; ++i) {
    T v = x[i];
    switch (p.kind) {
      case UnaryKind::kRelu: y[i] = v > T(0) ? v : T(0); break;
      case UnaryKind::kNeg: y[i] = static_cast<T>(U(0) - static_cast<U>(v)); break;  // wraps like numpy
      case UnaryKind::kAbs:
        if constexpr (std::is_signed_v<T>)
          y[i] = v < T(0) ? static_cast<T>(U(0) - static_cast<U>(v)) : v;
        else
          y[i] = v;
        break;
      case UnaryKind::kIdentity: y[i] = v; break;
      case UnaryKind::kSquare: y[i] = static_cast<T>(static_cast<U>(v) * static_cast<U>(v)); break;
      default: {
        double r = apply<double>(static_cast<double>(v), p.kind, p.alpha, p.beta);
        y[i] = std::isfinite(r) ? static_cast<T>(static_cast<int64_t>(r)) : T(0);
      }
    }
  }
}

template <typename T>
void clip_typed(const T* x, T* y, int64_t n, const void* lo, const void* hi) {
  using L = std::numeric_limits<T>;
  T l = lo ? *static_cast<const T*>(lo) : (L::has_infinity ? -L::infinity() : L::lowest());
  T h = hi ? *static_cast<const T*>(hi) : (L::has_infinity ? L::infinity() : L::max());
  for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], l), h);
}

}  // namespace

const char* unary_kind_name(UnaryKind k) {
  switch (k) {
    case UnaryKind::kRelu: return "Relu";
    case UnaryKind::kLeakyRelu: return "LeakyRelu";
    case UnaryKind::kSigmoid: return "Sigmoid";
    case UnaryKind::kHardSigmoid: return "HardSigmoid";
    case UnaryKind::kHardSwish: return "HardSwish";
    case UnaryKind::kTanh: return "Tanh";
    case UnaryKind::kErf: return "Erf";
    case UnaryKind::kSqrt: return "Sqrt";
    case UnaryKind::kExp: return "Exp";
    case UnaryKind::kLog: return "Log";
    case UnaryKind::kNeg: return "Neg";
    case UnaryKind::kAbs: return "Abs";
    case UnaryKind::kReciprocal: return "Reciprocal";
    case UnaryKind::kClip: return "Clip";
    case UnaryKind::kSquare: return "Square";
    case UnaryKind::kIdentity: return "Identity";
  }
  return "?";
}

bool unary_supports(UnaryKind k, DType dt) {
  if (dt == DType::kF32 || dt == DType::kF64 || dt == DType::kF16) return true;
  if (!dtype_is_integer(dt)) return false;
  switch (k) {
    case UnaryKind::kRelu:
    case UnaryKind::kNeg:
    case UnaryKind::kAbs:
    case UnaryKind::kErf:
    case UnaryKind::kIdentity:
    case UnaryKind::kSquare: return true;
    default: return false;
  }
}

void unary_f32(const float* x, float* y, int64_t n, const UnaryParams& p) { unary_float<float>(x, y, n, p); }
void unary_f64(const double* x, double* y, int64_t n, const UnaryParams& p) { unary_float<double>(x, y, n, p); }

void unary_any(DType dt, const void* x, void* y, int64_t n, const UnaryParams& p) {
  switch (dt) {
    case DType::kF32: unary_f32(static_cast<const float*>(x), static_cast<float*>(y), n, p); break;
    case DType::kF64: unary_f64(static_cast<const double*>(x), static_cast<double*>(y), n, p); break;
    case DType::kF16: {
      const uint16_t* hx = static_cast<const uint16_t*>(x);
      uint16_t* hy = static_cast<uint16_t*>(y);
      float buf[256];
      for (int64_t b = 0; b < n; b += 256) {
        int64_t m = std::min<int64_t>(256, n - b);
        for (int64_t i = 0; i < m; ++i) buf[i] = half_to_float(hx[b + i]);
        unary_f32(buf, buf, m, p);
        for (int64_t i = 0; i < m; ++i) hy[b + i] = float_to_half(buf[i]);
      }
      break;
    }
#define KW_INT(D, T) \
  case D: unary_integer<T>(static_cast<const T*>(x), static_cast<T*>(y), n, p); break;
      KW_INT(DType::kI8, int8_t)
      KW_INT(DType::kU8, uint8_t) KW_INT(DType::kI16, int16_t) KW_INT(DType::kU16, uint16_t)
          KW_INT(DType::kI32, int32_t) KW_INT(DType::kU32, uint32_t) KW_INT(DType::kI64, int64_t)
              KW_INT(DType::kU64, uint64_t)
#undef KW_INT
                  default : break;
  }
}

void clip_any(DType dt, const void* x, void* y, int64_t n, const void* lo, const void* hi) {
#define KW_INT(D, T) \
  case D: clip_typed<T>(static_cast<const T*>(x), static_cast<T*>(y), n, lo, hi); break;
  switch (dt) {
    case DType::kF16: {
      UnaryParams p;
      p.kind = UnaryKind::kClip;
      p.alpha = lo ? half_to_float(*static_cast<const uint16_t*>(lo)) : -std::numeric_limits<float>::infinity();
      p.beta = hi ? half_to_float(*static_cast<const uint16_t*>(hi)) : std::numeric_limits<float>::infinity();
      unary_any(dt, x, y, n, p);
      break;
    }
      KW_INT(DType::kF32, float)
      KW_INT(DType::kF64, double) KW_INT(DType::kI8, int8_t) KW_INT(DType::kU8, uint8_t) KW_INT(DType::kI16, int16_t)
          KW_INT(DType::kU16, uint16_t) KW_INT(DType::kI32, int32_t) KW_INT(DType::kU32, uint32_t)
              KW_INT(DType::kI64, int64_t) KW_INT(DType::kU64, uint64_t)
#undef KW_INT
                  default : break;
  }
}

}  // namespace kaiwu::kernels::ref
