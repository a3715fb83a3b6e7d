// Optimized elementwise unary float kernels (AVX-512 where available; the rest is the reference, which the
// compiler already vectorizes for the simple functions).
#pragma once
#include <cstdint>

#include "kernels/ref/unary.h"

namespace kaiwu::kernels::x86 {

// Same contract as ref::unary_f32. Exp/Sigmoid/Tanh/Erf use polynomial approximations within 1e-6 relative.
void unary_f32(const float* x, float* y, int64_t n, const ref::UnaryParams& p);
// Name of the implementation unary_f32 uses for this kind ("avx512" or "ref").
const char* unary_f32_impl(ref::UnaryKind k);

}  // namespace kaiwu::kernels::x86
