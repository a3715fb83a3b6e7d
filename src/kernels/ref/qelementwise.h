// Scalar reference kernels of the kaiwu fixed-point elementwise ops (QAdd, QMul, Requantize, QLut) and the shared
// pieces of their optimized versions: the integer type dispatch, the round-and-saturate step and the row walk over
// a numpy broadcast. Pure: pointers in, pointers out.
//
// Rounding contract (the x86 kernels reproduce it bit for bit): the value v is computed in f32 exactly as written
// in each function's comment (fma only where it says fmaf), then y = sat(rne(v) + zy): round half to even, a NaN
// rounds to 0, the zero point is added in f32, the result is clamped to the output type's range and converted.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels {

// Calls f(T{}) for T the C++ type of t in {int8_t, uint8_t, int16_t}; false for other dtypes.
template <typename F>
bool dispatch_qtype(DType t, F&& f) {
  switch (t) {
    case DType::kI8: f(int8_t{}); return true;
    case DType::kU8: f(uint8_t{}); return true;
    case DType::kI16: f(int16_t{}); return true;
    default: return false;
  }
}

// sat(rne(v) + zy) for the output type TY (see the contract above).
template <typename TY>
inline TY q_finish(float v, float zy) {
  constexpr float lo = static_cast<float>(std::numeric_limits<TY>::lowest());
  constexpr float hi = static_cast<float>(std::numeric_limits<TY>::max());
  float r = std::nearbyint(v);
  if (r != r) r = 0.f;
  r = r + zy;
  r = r < lo ? lo : r;
  r = r > hi ? hi : r;
  return static_cast<TY>(static_cast<int32_t>(r));
}

// A numpy broadcast of two inputs a, b to the output, with adjacent dims merged: dims[i] output extents (the last
// one is the "row"), a_strides / b_strides element strides (0 where broadcast). Built by make_broadcast_plan.
struct BroadcastPlan {
  std::vector<int64_t> dims, a_strides, b_strides;
  int64_t numel = 1;
};

// Merges the dims of an output shape with the broadcast strides of a and b (same rank as out; 0 = broadcast).
BroadcastPlan make_broadcast_plan(const std::vector<int64_t>& out, const std::vector<int64_t>& a_strides,
                                  const std::vector<int64_t>& b_strides);

// Calls fn(a_off, a_step, b_off, b_step, y_off, len) for the row pieces covering the flat output range [begin, end):
// y[y_off + k] combines a[a_off + k * a_step] and b[b_off + k * b_step] for k < len.
template <typename F>
void for_each_broadcast_row(const BroadcastPlan& p, int64_t begin, int64_t end, F&& fn) {
  const int r = static_cast<int>(p.dims.size());
  if (r == 0) {
    if (begin < end) fn(int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0}, int64_t{1});
    return;
  }
  const int64_t len = p.dims[r - 1];
  int64_t i = begin;
  while (i < end) {
    int64_t row = i / len, col = i % len;
    int64_t ao = 0, bo = 0, rest = row;
    for (int d = r - 2; d >= 0; --d) {
      int64_t k = rest % p.dims[d];
      rest /= p.dims[d];
      ao += k * p.a_strides[d];
      bo += k * p.b_strides[d];
    }
    int64_t n = std::min(end, (row + 1) * len) - i;
    fn(ao + col * p.a_strides[r - 1], p.a_strides[r - 1], bo + col * p.b_strides[r - 1], p.b_strides[r - 1], i, n);
    i += n;
  }
}

namespace ref {

// QAdd: v = fmaf(f32(a - za), ma, f32(b - zb) * mb). QMul: v = f32(int(a - za) * int(b - zb)) * m.
struct QBinaryParams {
  bool mul = false;
  int32_t za = 0, zb = 0, zy = 0;
  float ma = 1.f, mb = 1.f;  // QAdd: A_scale / Y_scale, B_scale / Y_scale
  float m = 1.f;             // QMul: (A_scale * B_scale) / Y_scale
};

// y = QAdd / QMul(a, b) over the flat output range [begin, end) of the broadcast plan. a and b have dtype xt, y yt
// (each i8 / u8 / i16).
void qbinary(DType xt, const void* a, const void* b, DType yt, void* y, const BroadcastPlan& plan,
             const QBinaryParams& p, int64_t begin, int64_t end);

// Requantize: y = sat(rne(f32(x - zx) * m) + zy), m = x_scale / y_scale, over the flat range [begin, end).
struct RequantizeParams {
  int32_t zx = 0, zy = 0;
  float m = 1.f;
};
void requantize(DType xt, const void* x, DType yt, void* y, const RequantizeParams& p, int64_t begin, int64_t end);

// QLut: y[i] = table[x[i] - lowest(x's type)] over [begin, end); x and y are bytes (x_signed: x is int8, so the
// index is x + 128), table has 256 entries.
void qlut(bool x_signed, const uint8_t* x, const uint8_t* table, uint8_t* y, int64_t begin, int64_t end);

// QLut of any width: y[i] = table[x[i] - lowest(xt)] over [begin, end). xt i8 / u8 / i16 (an int16 x indexes a
// 65536-entry table at x + 32768), table and y of type yt (i8 / u8 / i16).
void qlut_wide(DType xt, const void* x, DType yt, const void* table, void* y, int64_t begin, int64_t end);

}  // namespace ref
}  // namespace kaiwu::kernels
