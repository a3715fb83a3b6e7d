// Scalar reference for dtype-agnostic data movement: an n-d strided copy of fixed-size elements. Transpose,
// Slice, Concat, Split, Expand, Tile, DepthToSpace and SpaceToDepth are all expressed as one or more of these.
#pragma once
#include <cstdint>
#include <vector>

namespace kaiwu::kernels::ref {

struct StridedCopyParams {
  int64_t elem_size = 4;             // bytes per element (any positive size)
  std::vector<int64_t> shape;        // iteration shape
  std::vector<int64_t> src_strides;  // source strides in elements per dim (may be 0 or negative)
  std::vector<int64_t> dst_strides;  // destination strides in elements per dim
};

// Dense row-major strides (in elements) of `shape`.
std::vector<int64_t> dense_strides(const std::vector<int64_t>& shape);

// For every index i of p.shape: dst[sum i*dst_strides] = src[sum i*src_strides]; src and dst point at index 0.
void strided_copy(const void* src, void* dst, const StridedCopyParams& p);

}  // namespace kaiwu::kernels::ref
