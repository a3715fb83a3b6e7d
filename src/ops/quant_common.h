// Shared helpers of the quantized op family (QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger): reading scales / zero points, conv geometry, matmul broadcasting and the per-row /
// per-column parameter layout of the quantized matmuls.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"
#include "kernels/ref/qconv.h"

namespace kaiwu::ops {

// u8 or i8.
inline bool is_q8(DType t) { return t == DType::kU8 || t == DType::kI8; }

// The values of a scale tensor (f32 or f16) as floats.
std::vector<float> read_scales(const Tensor& t);
// The values of a zero-point tensor (any integer type) as int32; `n` zeros when t is null.
std::vector<int32_t> read_zero_points(const Tensor* t, size_t n);
// True if every value of v equals v[0].
bool all_equal(const std::vector<int32_t>& v);

// The layout of QuantizeLinear / DequantizeLinear's scale over x: per tensor (one element: channels = 1) or per axis
// (1-D of x.shape[axis] elements; x viewed as [outer, channels, inner]). zp (may be null) must match the scale's
// shape. Returns "" when valid, else the reason.
std::string qdq_layout(const ir::Node& n, const Shape& x, const Shape& scale, const Shape* zp, int64_t* channels,
                       int64_t* inner);

// Geometry of QLinearConv / ConvInteger from the node's attributes and the x / w shapes.
struct QConvGeometry {
  kernels::ref::QConvShape shape;
  int nsp = 0;                             // spatial rank (1..3)
  std::vector<int64_t> pads_begin, pads_end;  // per spatial dim, auto_pad resolved
  Shape out_shape;                         // [N, M, out...]
  int64_t out_plane = 1;                   // product of the output spatial dims
};
// Fills g; returns "" when valid, else the reason.
std::string qconv_geometry(const ir::Node& n, const Shape& x, const Shape& w, QConvGeometry* g);

// numpy.matmul broadcasting for MatMulInteger / QLinearMatMul.
struct QMatMulGeometry {
  int64_t m = 1, k = 1, n = 1;
  Shape out_shape;
  Shape a_batch, b_batch;              // batch dims of a and b (without the matrix dims)
  std::vector<int64_t> a_index, b_index;  // per output batch: the flat batch index into a and into b
  int64_t a_batches = 1, b_batches = 1;
};
std::string qmatmul_geometry(const Shape& a, const Shape& b, QMatMulGeometry* g);

// For a per-row parameter of a (scale / zero point; rows = m) or a per-column one of b (columns = n): checks the
// parameter's shape (scalar or one element; 1-D of m / n; or N-D [..., m, 1] / [..., 1, n] broadcastable to the
// batch dims) and fills `index` with, per (batch of a / b, row / column), the flat index into the parameter.
// Returns "" when valid, else the reason.
std::string matmul_param_index(const Shape& p, const QMatMulGeometry& g, bool for_a, std::vector<int64_t>* index);

}  // namespace kaiwu::ops
