// Scalar reference kernels for elementwise unary functions. Pure: pointers in, pointers out.
#pragma once
#include <cstdint>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

enum class UnaryKind {
  kRelu,         // max(x, 0)
  kLeakyRelu,    // x < 0 ? alpha * x : x
  kSigmoid,      // 1 / (1 + exp(-x))
  kHardSigmoid,  // max(0, min(1, alpha * x + beta))
  kHardSwish,    // x * max(0, min(1, x / 6 + 1 / 2))
  kTanh,
  kErf,
  kSqrt,
  kExp,
  kLog,
  kNeg,
  kAbs,
  kReciprocal,  // 1 / x
  kClip,        // min(max(x, alpha), beta)
  kSquare,      // x * x (Pow with a constant exponent 2)
  kIdentity,
};

struct UnaryParams {
  UnaryKind kind = UnaryKind::kRelu;
  float alpha = 0.f;  // LeakyRelu slope, HardSigmoid alpha, Clip min
  float beta = 0.f;   // HardSigmoid beta, Clip max
};

// "Relu", "Sigmoid", ... for messages.
const char* unary_kind_name(UnaryKind k);
// Whether unary_any handles this kind for this element type.
bool unary_supports(UnaryKind k, DType dt);

// y[i] = f(x[i]) for i in [0, n). x and y may alias (same pointer).
void unary_f32(const float* x, float* y, int64_t n, const UnaryParams& p);
void unary_f64(const double* x, double* y, int64_t n, const UnaryParams& p);
// Any supported element type: f16 goes through float, integers use exact integer arithmetic for
// Relu/Neg/Abs/Identity and double math (then truncation) for the rest. Clip on non-f32 types uses clip_any.
void unary_any(DType dt, const void* x, void* y, int64_t n, const UnaryParams& p);
// Clip for any numeric type: y = min(max(x, *lo), *hi); lo/hi point to one element of type dt, or are null for
// no bound.
void clip_any(DType dt, const void* x, void* y, int64_t n, const void* lo, const void* hi);

}  // namespace kaiwu::kernels::ref
