// Scalar reference for Pad: constant / reflect / edge / wrap padding (and cropping by negative pads) of
// fixed-size elements of any dtype.
#pragma once
#include <cstdint>
#include <vector>

namespace kaiwu::kernels::ref {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

struct PadParams {
  int64_t elem_size = 4;
  PadMode mode = PadMode::kConstant;
  std::vector<int64_t> in_shape, out_shape;  // out = in + pads at both ends
  std::vector<int64_t> pad_begin;            // leading pads per dim (negative crops)
};

// The input index along a dim of size n that padded position i (= output index - pad_begin) reads, or -1 when it
// takes the constant value. n must be > 0 for non-constant modes.
inline int64_t pad_source_index(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : n - 1;
    case PadMode::kWrap: return ((i % n) + n) % n;
    case PadMode::kReflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      i = ((i % period) + period) % period;
      return i < n ? i : period - i;
    }
  }
  return -1;
}

// y = pad(x); `value` points at one element (elem_size bytes) used by kConstant.
void pad(const void* x, void* y, const PadParams& p, const void* value);

}  // namespace kaiwu::kernels::ref
