#include "kernels/ref/pad.h"

#include <cstring>

namespace kaiwu::kernels::ref {

void pad(const void* x, void* y, const PadParams& p, const void* value) {
  const int rank = static_cast<int>(p.out_shape.size());
  int64_t n = 1;
  for (int64_t d : p.out_shape) n *= d;
  if (n <= 0) return;
  std::vector<int64_t> in_strides(rank, 1), idx(rank, 0);
  for (int k = rank - 2; k >= 0; --k) in_strides[k] = in_strides[k + 1] * p.in_shape[k + 1];
  const char* xs = static_cast<const char*>(x);
  char* ys = static_cast<char*>(y);
  const size_t es = static_cast<size_t>(p.elem_size);
  for (int64_t e = 0; e < n; ++e) {
    int64_t src = 0;
    for (int k = 0; k < rank && src >= 0; ++k) {
      int64_t i = pad_source_index(idx[k] - p.pad_begin[k], p.in_shape[k], p.mode);
      src = i < 0 ? -1 : src + i * in_strides[k];
    }
    std::memcpy(ys + e * es, src < 0 ? value : xs + src * es, es);
    for (int k = rank - 1; k >= 0; --k) {
      if (++idx[k] < p.out_shape[k]) break;
      idx[k] = 0;
    }
  }
}

}  // namespace kaiwu::kernels::ref
