// Optimized binary elementwise ops and Where with numpy broadcasting. Prepare: make_broadcast_plan collapses the
// output dims so that each input is either contiguous or constant along the innermost run (same shape, per-channel
// (1,C,1,1) and scalar operands all become long contiguous runs with no per-element index math). Run: the elements
// are split in fixed chunks over threads (results do not depend on the thread count).
#pragma once
#include <cstdint>
#include <vector>

#include "kaiwu/dtype.h"
#include "kernels/ref/binary_ops.h"

namespace kaiwu::kernels::x86 {

using Dims = std::vector<int64_t>;

struct BroadcastPlan {
  Dims dims;                  // collapsed output dims (at least one)
  std::vector<Dims> strides;  // per input, per collapsed dim, in elements (0 where broadcast)
  int64_t numel = 0;
  bool ok = false;  // false if a shape does not broadcast to the output
};

// Plans inputs of `in_shapes` broadcast to `out_shape`.
BroadcastPlan make_broadcast_plan(const std::vector<Dims>& in_shapes, const Dims& out_shape);

// out = op(a, b) over a 2-input plan; same element types and aliasing rules as ref::binary. False if unsupported.
bool binary(BinaryKind k, DType dt, const void* a, const void* b, void* out, const BroadcastPlan& plan);

// out = cond ? x : y over a 3-input plan (cond, x, y); elements of elem_size (1, 2, 4 or 8) bytes.
void where(size_t elem_size, const uint8_t* cond, const void* x, const void* y, void* out, const BroadcastPlan& plan);

}  // namespace kaiwu::kernels::x86
