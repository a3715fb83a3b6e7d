// AVX-512 QuantizeLinear / DequantizeLinear / int32 requantization. Bit-identical to kernels/ref/quantize.h (same
// operations in the same order: division, round-half-even, zero point, clamp); on hosts without AVX-512 they call
// the reference. Same interfaces as the reference: flat element ranges [begin, end), so callers split them freely.
#pragma once
#include <cstdint>

#include "kernels/ref/quantize.h"

namespace kaiwu::kernels::x86 {

// f32 -> u8 / i8 / u16 / i16.
bool quantize_linear_supported(DType xt, DType yt);
void quantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                     int64_t end);

// u8 / i8 / u16 / i16 / i32 -> f32.
bool dequantize_linear_supported(DType xt, DType yt);
void dequantize_linear(DType xt, const void* x, DType yt, void* y, const ref::QuantizeLinearParams& p, int64_t begin,
                       int64_t end);

// int32 (+ per-channel bias) -> u8 / i8, as ref::requantize_s32.
void requantize_s32(const int32_t* acc, const int32_t* bias, DType yt, void* y, int64_t channels, int64_t inner,
                    const float* multipliers, int32_t zero_point, int64_t begin, int64_t end);

}  // namespace kaiwu::kernels::x86
