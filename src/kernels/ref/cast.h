// Element type conversion (ONNX Cast), matching numpy's astype on x86:
// - float -> integer truncates toward zero; NaN and values outside the intermediate integer range give the x86
//   "integer indefinite" value (INT32_MIN for targets of up to 32 signed bits, INT64_MIN otherwise), and the
//   intermediate is then wrapped to the target width (so -1.0f -> uint8 gives 255);
// - integer -> integer wraps; anything -> bool is (x != 0) (NaN -> true); bool -> number is 0 or 1;
// - every conversion to f16 rounds once, to nearest even (f64 -> f16 directly, not through f32).
#pragma once
#include <cstdint>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

// y[i] = x[i] converted from `from` to `to`, i in [0, n). Returns false for kUndefined types.
bool cast(DType from, const void* x, DType to, void* y, int64_t n);

// IEEE half from double, rounded once to nearest even.
uint16_t double_to_half(double d);

}  // namespace kaiwu::kernels::ref
