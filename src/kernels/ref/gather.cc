#include "kernels/ref/gather.h"

#include <cstring>

namespace kaiwu::kernels::ref {
namespace {

template <typename I>
int64_t find_bad(const I* idx, int64_t n, int64_t axis_dim) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < -axis_dim || idx[i] >= axis_dim) return i;
  return -1;
}

template <typename I>
void rows(const void* data, const I* idx, void* out, const GatherParams& p, int64_t b, int64_t e) {
  const char* d = static_cast<const char*>(data);
  char* o = static_cast<char*>(out);
  const size_t ib = static_cast<size_t>(p.inner_bytes);
  for (int64_t r = b; r < e; ++r) {
    const int64_t outer = r / p.num_indices, j = r % p.num_indices;
    int64_t k = static_cast<int64_t>(idx[j]);
    if (k < 0) k += p.axis_dim;
    std::memcpy(o + r * p.inner_bytes, d + (outer * p.axis_dim + k) * p.inner_bytes, ib);
  }
}

}  // namespace

int64_t gather_find_bad_index(const int64_t* idx, int64_t n, int64_t axis_dim) { return find_bad(idx, n, axis_dim); }
int64_t gather_find_bad_index(const int32_t* idx, int64_t n, int64_t axis_dim) { return find_bad(idx, n, axis_dim); }

void gather_rows(const void* data, const int64_t* idx, void* out, const GatherParams& p, int64_t b, int64_t e) {
  rows(data, idx, out, p, b, e);
}
void gather_rows(const void* data, const int32_t* idx, void* out, const GatherParams& p, int64_t b, int64_t e) {
  rows(data, idx, out, p, b, e);
}

}  // namespace kaiwu::kernels::ref
