#include "kernels/x86/strided_copy.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {
namespace {

constexpr int64_t kChunkBytes = 64 * 1024;  // work per parallel chunk

// Row-major walk over a set of dims, tracking source and destination offsets (in elements).
struct Walker {
  std::vector<int64_t> n, ss, ds, idx;
  int64_t so = 0, dof = 0;
  void add(int64_t size, int64_t s, int64_t d) {
    n.push_back(size);
    ss.push_back(s);
    ds.push_back(d);
    idx.push_back(0);
  }
  int64_t count() const {
    int64_t c = 1;
    for (int64_t v : n) c *= v;
    return c;
  }
  void seek(int64_t linear) {
    so = dof = 0;
    for (int k = static_cast<int>(n.size()) - 1; k >= 0; --k) {
      idx[k] = linear % n[k];
      linear /= n[k];
      so += idx[k] * ss[k];
      dof += idx[k] * ds[k];
    }
  }
  void next() {
    for (int k = static_cast<int>(n.size()) - 1; k >= 0; --k) {
      so += ss[k];
      dof += ds[k];
      if (++idx[k] < n[k]) return;
      so -= ss[k] * n[k];
      dof -= ds[k] * n[k];
      idx[k] = 0;
    }
  }
};

template <typename T>
void inner_typed(const char* s, char* d, int64_t n, int64_t ss, int64_t ds) {
  const T* sp = reinterpret_cast<const T*>(s);
  T* dp = reinterpret_cast<T*>(d);
  if (ds == 1 && ss == 0) {
    const T v = sp[0];
    for (int64_t j = 0; j < n; ++j) dp[j] = v;
  } else if (ds == 1) {
    for (int64_t j = 0; j < n; ++j) dp[j] = sp[j * ss];
  } else {
    for (int64_t j = 0; j < n; ++j) dp[j * ds] = sp[j * ss];
  }
}

void inner_copy(const char* s, char* d, int64_t n, int64_t ss, int64_t ds, int64_t es) {
  switch (es) {
    case 1: return inner_typed<uint8_t>(s, d, n, ss, ds);
    case 2: return inner_typed<uint16_t>(s, d, n, ss, ds);
    case 4: return inner_typed<uint32_t>(s, d, n, ss, ds);
    case 8: return inner_typed<uint64_t>(s, d, n, ss, ds);
    default:
      for (int64_t j = 0; j < n; ++j) std::memcpy(d + j * ds * es, s + j * ss * es, static_cast<size_t>(es));
  }
}

// Scalar tile: d[k*dk + l] = s[k + l*sl].
template <typename T>
void tile_scalar(const T* s, T* d, int64_t nk, int64_t nl, int64_t sl, int64_t dk) {
  for (int64_t k = 0; k < nk; ++k)
    for (int64_t l = 0; l < nl; ++l) d[k * dk + l] = s[k + l * sl];
}

#ifdef __AVX2__
// 8x8 transpose of 32-bit elements: row l of the source (8 contiguous k) becomes column l of the destination.
inline void transpose8x8_32(const float* s, int64_t sl, float* d, int64_t dk) {
  __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + sl), r2 = _mm256_loadu_ps(s + 2 * sl),
         r3 = _mm256_loadu_ps(s + 3 * sl), r4 = _mm256_loadu_ps(s + 4 * sl), r5 = _mm256_loadu_ps(s + 5 * sl),
         r6 = _mm256_loadu_ps(s + 6 * sl), r7 = _mm256_loadu_ps(s + 7 * sl);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + dk, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * dk, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * dk, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * dk, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * dk, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * dk, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * dk, _mm256_permute2f128_ps(u3, u7, 0x31));
}

inline void transpose8x8_32u(const uint32_t* s, int64_t sl, uint32_t* d, int64_t dk) {
  transpose8x8_32(reinterpret_cast<const float*>(s), sl, reinterpret_cast<float*>(d), dk);
}
#endif

// 8x8 transpose of 16-bit elements (SSE2).
inline void transpose8x8_16(const uint16_t* s, int64_t sl, uint16_t* d, int64_t dk) {
  __m128i r[8], a[8], b[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i * sl));
  for (int i = 0; i < 4; ++i) {
    a[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7 (h = 1)
    const __m128i* x = a + 4 * h;
    b[4 * h + 0] = _mm_unpacklo_epi32(x[0], x[2]);
    b[4 * h + 1] = _mm_unpackhi_epi32(x[0], x[2]);
    b[4 * h + 2] = _mm_unpacklo_epi32(x[1], x[3]);
    b[4 * h + 3] = _mm_unpackhi_epi32(x[1], x[3]);
  }
  for (int i = 0; i < 4; ++i) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + (2 * i) * dk), _mm_unpacklo_epi64(b[i], b[4 + i]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + (2 * i + 1) * dk), _mm_unpackhi_epi64(b[i], b[4 + i]));
  }
}

// 8x8 transpose of bytes (SSE2).
inline void transpose8x8_8(const uint8_t* s, int64_t sl, uint8_t* d, int64_t dk) {
  __m128i r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + i * sl));
  const __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpacklo_epi8(r[2], r[3]);
  const __m128i a2 = _mm_unpacklo_epi8(r[4], r[5]), a3 = _mm_unpacklo_epi8(r[6], r[7]);
  const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
  const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
  const __m128i c[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2), _mm_unpacklo_epi32(b1, b3),
                        _mm_unpackhi_epi32(b1, b3)};
  for (int i = 0; i < 4; ++i) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d + (2 * i) * dk), c[i]);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d + (2 * i + 1) * dk), _mm_srli_si128(c[i], 8));
  }
}

// Tile of any element type: 8x8 register transposes (K8) plus scalar edges.
template <typename T, void (*K8)(const T*, int64_t, T*, int64_t)>
void tile_blocked(const T* s, T* d, int64_t nk, int64_t nl, int64_t sl, int64_t dk) {
  const int64_t k8 = nk & ~int64_t{7}, l8 = nl & ~int64_t{7};
  for (int64_t k = 0; k < k8; k += 8)
    for (int64_t l = 0; l < l8; l += 8) K8(s + k + l * sl, sl, d + k * dk + l, dk);
  if (l8 < nl) tile_scalar(s + l8 * sl, d + l8, k8, nl - l8, sl, dk);
  if (k8 < nk) tile_scalar(s + k8, d + k8 * dk, nk - k8, nl, sl, dk);
}

// Interleave of NL short source rows into dense destination rows (d[k*NL + l] = s[k + l*sl]): the compile-time
// row count lets the compiler vectorize with shuffles (NCHW -> NHWC of 3-channel images, DepthToSpace blocks).
template <int NL, typename T>
void interleave(const T* s, T* d, int64_t nk, int64_t sl) {
  for (int64_t k = 0; k < nk; ++k)
    for (int l = 0; l < NL; ++l) d[k * NL + l] = s[k + l * sl];
}

template <typename T>
bool try_interleave(const char* s, char* d, int64_t nk, int64_t nl, int64_t sl, int64_t dk) {
  if (dk != nl) return false;
  const T* sp = reinterpret_cast<const T*>(s);
  T* dp = reinterpret_cast<T*>(d);
  switch (nl) {
    case 2: interleave<2>(sp, dp, nk, sl); return true;
    case 3: interleave<3>(sp, dp, nk, sl); return true;
    case 4: interleave<4>(sp, dp, nk, sl); return true;
    default: return false;
  }
}

void tile(const char* s, char* d, int64_t nk, int64_t nl, int64_t sl, int64_t dk, int64_t es) {
  if (nl <= 4) {
    bool done = false;
    switch (es) {
      case 1: done = try_interleave<uint8_t>(s, d, nk, nl, sl, dk); break;
      case 2: done = try_interleave<uint16_t>(s, d, nk, nl, sl, dk); break;
      case 4: done = try_interleave<uint32_t>(s, d, nk, nl, sl, dk); break;
      case 8: done = try_interleave<uint64_t>(s, d, nk, nl, sl, dk); break;
    }
    if (done) return;
  }
  switch (es) {
    case 1:
      return tile_blocked<uint8_t, transpose8x8_8>(reinterpret_cast<const uint8_t*>(s), reinterpret_cast<uint8_t*>(d), nk,
                                                   nl, sl, dk);
    case 2:
      return tile_blocked<uint16_t, transpose8x8_16>(reinterpret_cast<const uint16_t*>(s), reinterpret_cast<uint16_t*>(d),
                                                     nk, nl, sl, dk);
    case 4:
#ifdef __AVX2__
      return tile_blocked<uint32_t, transpose8x8_32u>(reinterpret_cast<const uint32_t*>(s), reinterpret_cast<uint32_t*>(d),
                                                      nk, nl, sl, dk);
#else
      return tile_scalar(reinterpret_cast<const uint32_t*>(s), reinterpret_cast<uint32_t*>(d), nk, nl, sl, dk);
#endif
    case 8: return tile_scalar(reinterpret_cast<const uint64_t*>(s), reinterpret_cast<uint64_t*>(d), nk, nl, sl, dk);
    default:
      for (int64_t k = 0; k < nk; ++k)
        for (int64_t l = 0; l < nl; ++l)
          std::memcpy(d + (k * dk + l) * es, s + (k + l * sl) * es, static_cast<size_t>(es));
  }
}

void run_rows(const char* s, char* d, const StridedCopyPlan& p) {
  const int r = static_cast<int>(p.shape.size());
  const int64_t es = p.elem_size, row_bytes = p.shape[r - 1] * es;
  Walker proto;
  for (int i = 0; i < r - 1; ++i) proto.add(p.shape[i], p.src_strides[i], p.dst_strides[i]);
  const int64_t rows = proto.count();
  if (row_bytes >= 2 * kChunkBytes) {  // long rows: split each row in pieces
    const int64_t pieces = (row_bytes + kChunkBytes - 1) / kChunkBytes;
    parallel_for(rows * pieces, 1, [&](int64_t b, int64_t e) {
      Walker w = proto;
      for (int64_t it = b; it < e; ++it) {
        w.seek(it / pieces);
        int64_t off = (it % pieces) * kChunkBytes, len = std::min(kChunkBytes, row_bytes - off);
        std::memcpy(d + w.dof * es + off, s + w.so * es + off, static_cast<size_t>(len));
      }
    });
    return;
  }
  parallel_for(rows, std::max<int64_t>(1, kChunkBytes / row_bytes), [&](int64_t b, int64_t e) {
    Walker w = proto;
    w.seek(b);
    for (int64_t it = b; it < e; ++it, w.next())
      std::memcpy(d + w.dof * es, s + w.so * es, static_cast<size_t>(row_bytes));
  });
}

void run_generic(const char* s, char* d, const StridedCopyPlan& p) {
  const int r = static_cast<int>(p.shape.size());
  const int64_t es = p.elem_size, n = p.shape[r - 1], ss = p.src_strides[r - 1], ds = p.dst_strides[r - 1];
  Walker proto;
  for (int i = 0; i < r - 1; ++i) proto.add(p.shape[i], p.src_strides[i], p.dst_strides[i]);
  parallel_for(proto.count(), std::max<int64_t>(1, kChunkBytes / (n * es)), [&](int64_t b, int64_t e) {
    Walker w = proto;
    w.seek(b);
    for (int64_t it = b; it < e; ++it, w.next()) inner_copy(s + w.so * es, d + w.dof * es, n, ss, ds, es);
  });
}

void run_transpose(const char* s, char* d, const StridedCopyPlan& p) {
  const int r = static_cast<int>(p.shape.size()), kd = p.transpose_dim, ld = r - 1;
  const int64_t es = p.elem_size, nk = p.shape[kd], nl = p.shape[ld];
  const int64_t sl = p.src_strides[ld], dk = p.dst_strides[kd];
  const int64_t t = std::clamp<int64_t>(256 / es, 8, 64);  // tile edge: both tiles stay in L1
  const int64_t tk = nl >= t ? t : t * (t / nl);     // short last dim: longer tiles of about t*t elements
  Walker proto;
  for (int i = 0; i < r; ++i)
    if (i != kd && i != ld) proto.add(p.shape[i], p.src_strides[i], p.dst_strides[i]);
  const int64_t kblocks = (nk + tk - 1) / tk, items = proto.count() * kblocks;
  parallel_for(items, std::max<int64_t>(1, kChunkBytes / (tk * nl * es)), [&](int64_t b, int64_t e) {
    Walker w = proto;
    for (int64_t it = b; it < e; ++it) {
      w.seek(it / kblocks);
      const int64_t k0 = (it % kblocks) * tk, nkb = std::min(tk, nk - k0);
      for (int64_t l0 = 0; l0 < nl; l0 += t)
        tile(s + (w.so + k0 + l0 * sl) * es, d + (w.dof + k0 * dk + l0) * es, nkb, std::min(t, nl - l0), sl, dk, es);
    }
  });
}

}  // namespace

StridedCopyPlan plan_strided_copy(const ref::StridedCopyParams& p) {
  StridedCopyPlan q;
  q.elem_size = p.elem_size;
  for (size_t i = 0; i < p.shape.size(); ++i) {
    const int64_t n = p.shape[i];
    if (n == 0) return q;  // kEmpty
    if (n == 1) continue;
    if (!q.shape.empty() && q.src_strides.back() == p.src_strides[i] * n && q.dst_strides.back() == p.dst_strides[i] * n) {
      q.shape.back() *= n;  // the outer dim continues into this one: merge
      q.src_strides.back() = p.src_strides[i];
      q.dst_strides.back() = p.dst_strides[i];
      continue;
    }
    q.shape.push_back(n);
    q.src_strides.push_back(p.src_strides[i]);
    q.dst_strides.push_back(p.dst_strides[i]);
  }
  if (q.shape.empty()) {  // a single element
    q.shape = {1};
    q.src_strides = {1};
    q.dst_strides = {1};
  }
  const int ld = static_cast<int>(q.shape.size()) - 1;
  if (q.src_strides[ld] == 1 && q.dst_strides[ld] == 1) {
    q.kind = StridedCopyPlan::Kind::kRows;
    return q;
  }
  q.kind = StridedCopyPlan::Kind::kGeneric;
  if (q.dst_strides[ld] == 1 && q.src_strides[ld] != 0) {
    for (int i = ld - 1; i >= 0; --i)
      if (q.src_strides[i] == 1) {
        q.kind = StridedCopyPlan::Kind::kTranspose;
        q.transpose_dim = i;
        break;
      }
  }
  return q;
}

void strided_copy(const void* src, void* dst, const StridedCopyPlan& plan) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  switch (plan.kind) {
    case StridedCopyPlan::Kind::kEmpty: return;
    case StridedCopyPlan::Kind::kRows: return run_rows(s, d, plan);
    case StridedCopyPlan::Kind::kTranspose: return run_transpose(s, d, plan);
    case StridedCopyPlan::Kind::kGeneric: return run_generic(s, d, plan);
  }
}

void copy_bytes(const void* src, void* dst, size_t n) {
  if (n == 0 || src == dst) return;
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  parallel_for(static_cast<int64_t>(n), 4 * kChunkBytes,
               [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, static_cast<size_t>(e - b)); });
}

}  // namespace kaiwu::kernels::x86
