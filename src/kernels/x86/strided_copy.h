// Optimized dtype-agnostic strided copy: the simplified copy is planned once (unit dims dropped, contiguous dims
// merged) and then run as contiguous row memcpys, a tiled 2-d transpose, or a typed strided loop, in parallel over
// fixed-size chunks (every element is written exactly once, so results never depend on the thread count).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ref/strided_copy.h"

namespace kaiwu::kernels::x86 {

struct StridedCopyPlan {
  enum class Kind { kEmpty, kRows, kTranspose, kGeneric };
  Kind kind = Kind::kEmpty;
  int64_t elem_size = 1;
  std::vector<int64_t> shape, src_strides, dst_strides;  // simplified; innermost dim last
  int transpose_dim = -1;  // kTranspose: the dim with unit source stride (the last dim has unit dest stride)
};

// Simplifies a copy and picks its strategy (prepare time).
StridedCopyPlan plan_strided_copy(const ref::StridedCopyParams& p);

// Runs a planned copy; src and dst point at index 0 of the original params.
void strided_copy(const void* src, void* dst, const StridedCopyPlan& plan);

// memcpy of n bytes, split over threads for large n.
void copy_bytes(const void* src, void* dst, size_t n);

}  // namespace kaiwu::kernels::x86
