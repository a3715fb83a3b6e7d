// Scalar reference kernels for binary elementwise ops and Where, with numpy broadcasting done by per-element
// index arithmetic (slow and obviously right: the oracle for kernels/x86/binary).
#pragma once
#include <cstdint>
#include <vector>

#include "kaiwu/dtype.h"
#include "kernels/ref/binary_ops.h"

namespace kaiwu::kernels::ref {

using Dims = std::vector<int64_t>;

// "Add", "Sub", ... for messages.
const char* binary_kind_name(BinaryKind k);
// Comparisons write bool (1 byte, 0/1) outputs.
bool binary_is_comparison(BinaryKind k);
// Element types binary() handles for `k`: f32, f64 and the integer types (bool for Equal only). f16 callers
// convert to f32 first.
bool binary_supports(BinaryKind k, DType dt);

// out = op(a, b), a and b broadcast (numpy rules) to out_shape; a, b hold `dt` elements, out holds `dt` or bool.
// out may alias a or b when that input has out_shape. Returns false for an unsupported (k, dt).
bool binary(BinaryKind k, DType dt, const void* a, const Dims& a_shape, const void* b, const Dims& b_shape, void* out,
            const Dims& out_shape);

// out = cond ? x : y, all three broadcast to out_shape; x, y, out hold elements of elem_size (1, 2, 4 or 8) bytes.
void where(size_t elem_size, const uint8_t* cond, const Dims& c_shape, const void* x, const Dims& x_shape,
           const void* y, const Dims& y_shape, void* out, const Dims& out_shape);

}  // namespace kaiwu::kernels::ref
