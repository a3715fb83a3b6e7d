#include "kernels/ref/strided_copy.h"

#include <cstring>

namespace kaiwu::kernels::ref {

std::vector<int64_t> dense_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * shape[i + 1];
  return st;
}

void strided_copy(const void* src, void* dst, const StridedCopyParams& p) {
  const int rank = static_cast<int>(p.shape.size());
  int64_t n = 1;
  for (int64_t d : p.shape) n *= d;
  if (n <= 0) return;
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const int64_t es = p.elem_size;
  std::vector<int64_t> idx(rank, 0);
  int64_t so = 0, dof = 0;  // current offsets in elements
  for (int64_t e = 0; e < n; ++e) {
    std::memcpy(d + dof * es, s + so * es, static_cast<size_t>(es));
    for (int k = rank - 1; k >= 0; --k) {  // odometer increment
      so += p.src_strides[k];
      dof += p.dst_strides[k];
      if (++idx[k] < p.shape[k]) break;
      so -= p.src_strides[k] * p.shape[k];
      dof -= p.dst_strides[k] * p.shape[k];
      idx[k] = 0;
    }
  }
}

}  // namespace kaiwu::kernels::ref
