// Scalar reference kernels for elementwise unary float functions. Pure: pointers in, pointers out.
#pragma once
#include <cstdint>

namespace kaiwu::kernels::ref {

enum class UnaryKind { kRelu };

struct UnaryParams {
  UnaryKind kind = UnaryKind::kRelu;
  float alpha = 0.f;  // LeakyRelu slope, HardSigmoid alpha, Clip min, ...
  float beta = 0.f;   // HardSigmoid beta, Clip max, ...
};

// y[i] = f(x[i]) for i in [0, n). x and y may alias.
void unary_f32(const float* x, float* y, int64_t n, const UnaryParams& p);

}  // namespace kaiwu::kernels::ref
