#include "kernels/x86/pad.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {
namespace {

constexpr int64_t kChunkBytes = 64 * 1024;

template <typename T>
void fill_typed(char* d, int64_t n, const void* v) {
  T t;
  std::memcpy(&t, v, sizeof(T));
  T* p = reinterpret_cast<T*>(d);
  for (int64_t i = 0; i < n; ++i) p[i] = t;
}

// Writes n copies of the vs-byte element v at d.
void fill(char* d, int64_t n, const void* v, int64_t vs) {
  switch (vs) {
    case 1: return n > 0 ? (void)std::memset(d, *static_cast<const unsigned char*>(v), static_cast<size_t>(n)) : void();
    case 2: return fill_typed<uint16_t>(d, n, v);
    case 4: return fill_typed<uint32_t>(d, n, v);
    case 8: return fill_typed<uint64_t>(d, n, v);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * vs, v, static_cast<size_t>(vs));
  }
}

}  // namespace

PadPlan plan_pad(const ref::PadParams& p) {
  PadPlan q;
  q.value_size = q.elem_size = p.elem_size;
  q.mode = p.mode;
  int64_t out_n = 1;
  for (int64_t d : p.out_shape) out_n *= d;
  if (out_n == 0) {
    q.empty = true;
    return q;
  }
  auto unpadded = [&](int i) { return p.pad_begin[i] == 0 && p.in_shape[i] == p.out_shape[i]; };
  int r = static_cast<int>(p.out_shape.size());
  while (r > 0 && unpadded(r - 1)) q.elem_size *= p.in_shape[--r];  // fold unpadded inner dims into the element
  bool prev_unpadded = false;
  for (int i = 0; i < r; ++i) {
    bool u = unpadded(i);
    if (u && prev_unpadded) {
      q.in_shape.back() *= p.in_shape[i];
      q.out_shape.back() *= p.out_shape[i];
    } else {
      q.in_shape.push_back(p.in_shape[i]);
      q.out_shape.push_back(p.out_shape[i]);
      q.pad_begin.push_back(p.pad_begin[i]);
    }
    prev_unpadded = u;
  }
  if (q.out_shape.empty()) {  // nothing padded: one row of one folded element
    q.in_shape = q.out_shape = {1};
    q.pad_begin = {0};
  }
  return q;
}

void pad(const void* x, void* y, const PadPlan& q, const void* value) {
  if (q.empty) return;
  const int ld = static_cast<int>(q.out_shape.size()) - 1;
  const int64_t es = q.elem_size, vs = q.value_size, fold = es / vs;
  const int64_t in_w = q.in_shape[ld], out_w = q.out_shape[ld], pb = q.pad_begin[ld];
  const int64_t j_lo = std::clamp<int64_t>(pb, 0, out_w), j_hi = std::clamp<int64_t>(pb + in_w, j_lo, out_w);
  const int64_t row_bytes = out_w * es;
  std::vector<int64_t> in_strides(ld + 1, 1);
  for (int k = ld - 1; k >= 0; --k) in_strides[k] = in_strides[k + 1] * q.in_shape[k + 1];
  int64_t rows = 1;
  for (int k = 0; k < ld; ++k) rows *= q.out_shape[k];
  const char* xs = static_cast<const char*>(x);
  char* ys = static_cast<char*>(y);
  const bool constant = q.mode == ref::PadMode::kConstant;
  parallel_for(rows, std::max<int64_t>(1, kChunkBytes / row_bytes), [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(ld);
    for (int64_t k = ld - 1, lin = b; k >= 0; --k) {
      idx[k] = lin % q.out_shape[k];
      lin /= q.out_shape[k];
    }
    for (int64_t row = b; row < e; ++row) {
      char* drow = ys + row * row_bytes;
      int64_t src = 0;
      for (int k = 0; k < ld && src >= 0; ++k) {
        int64_t i = ref::pad_source_index(idx[k] - q.pad_begin[k], q.in_shape[k], q.mode);
        src = i < 0 ? -1 : src + i * in_strides[k];
      }
      if (src < 0) {
        fill(drow, out_w * fold, value, vs);
      } else {
        const char* srow = xs + src * es;
        auto border = [&](int64_t j0, int64_t j1) {
          if (constant) return fill(drow + j0 * es, (j1 - j0) * fold, value, vs);
          for (int64_t j = j0; j < j1; ++j)
            std::memcpy(drow + j * es, srow + ref::pad_source_index(j - pb, in_w, q.mode) * es, static_cast<size_t>(es));
        };
        border(0, j_lo);
        if (j_hi > j_lo) std::memcpy(drow + j_lo * es, srow + (j_lo - pb) * es, static_cast<size_t>((j_hi - j_lo) * es));
        border(j_hi, out_w);
      }
      for (int k = ld - 1; k >= 0; --k) {
        if (++idx[k] < q.out_shape[k]) break;
        idx[k] = 0;
      }
    }
  });
}

}  // namespace kaiwu::kernels::x86
