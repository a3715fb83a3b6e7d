// Optimized Pad: the padding is planned once (unpadded inner dims folded into the element, unpadded outer dims
// merged), then every output row is built from a memcpy of its source run plus filled or mapped borders, in
// parallel over fixed-size chunks of rows.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/ref/pad.h"

namespace kaiwu::kernels::x86 {

struct PadPlan {
  bool empty = false;
  int64_t value_size = 4;  // bytes of one original element (the constant value)
  int64_t elem_size = 4;   // bytes of one folded element
  ref::PadMode mode = ref::PadMode::kConstant;
  std::vector<int64_t> in_shape, out_shape, pad_begin;  // simplified
};

// Simplifies a pad (prepare time).
PadPlan plan_pad(const ref::PadParams& p);

// y = pad(x); `value` points at one original element used by kConstant.
void pad(const void* x, void* y, const PadPlan& plan, const void* value);

}  // namespace kaiwu::kernels::x86
