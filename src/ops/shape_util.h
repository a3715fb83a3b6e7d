// Shape helpers shared by op inference functions and kernels' parameter setup.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::ops {

// Numpy-style multidirectional broadcast of two shapes; false if incompatible.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
// Normalizes a possibly negative axis into [0, rank); false if out of range.
bool normalize_axis(int64_t axis, int64_t rank, int64_t* out);
// Row-major strides of a shape (in elements).
std::vector<int64_t> strides_of(const Shape& s);
// Strides of `in` broadcast to `out` (0 where the input dimension is 1 or missing). in.size() <= out.size().
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

}  // namespace kaiwu::ops
