#include "kernels/x86/binary.h"

#include <algorithm>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {

namespace {

constexpr int64_t kGrain = 32768;  // elements per parallel chunk
constexpr int kMaxDims = 16;

// Calls span(offsets, out_pos, len) for the contiguous runs covering output elements [begin, end); offsets[k] is
// input k's element offset at the run start.
template <int N, typename SpanFn>
void for_each_span(const BroadcastPlan& p, int64_t begin, int64_t end, SpanFn&& span) {
  const int nd = static_cast<int>(p.dims.size());
  const int64_t inner = p.dims[nd - 1];
  int64_t idx[kMaxDims];
  int64_t row[N], off[N];
  int64_t q = begin / inner, pos = begin % inner;
  for (int k = 0; k < N; ++k) row[k] = 0;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = q % p.dims[d];
    q /= p.dims[d];
    for (int k = 0; k < N; ++k) row[k] += idx[d] * p.strides[k][d];
  }
  int64_t cur = begin;
  while (cur < end) {
    const int64_t len = std::min(inner - pos, end - cur);
    for (int k = 0; k < N; ++k) off[k] = row[k] + pos * p.strides[k][nd - 1];
    span(off, cur, len);
    cur += len;
    pos = 0;
    for (int d = nd - 2; d >= 0; --d) {  // next row (odometer)
      for (int k = 0; k < N; ++k) row[k] += p.strides[k][d];
      if (++idx[d] < p.dims[d]) break;
      for (int k = 0; k < N; ++k) row[k] -= p.strides[k][d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

// One run: each input is contiguous (step 1) or constant (step 0) along it.
template <typename T, typename U, typename F>
inline void run_span(const T* a, int64_t sa, const T* b, int64_t sb, U* o, int64_t n, F f) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else if (sa == 0 && sb == 0) {
    const U v = f(*a, *b);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * sa], b[i * sb]);
  }
}

template <BinaryKind K, typename T>
void run_typed(const void* a, const void* b, void* out, const BroadcastPlan& p) {
  using Op = BinaryOp<K, T>;
  using U = typename Op::Out;
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  U* po = static_cast<U*>(out);
  const int64_t ia = p.strides[0].back(), ib = p.strides[1].back();
  parallel_for(p.numel, kGrain, [&](int64_t begin, int64_t end) {
    for_each_span<2>(p, begin, end, [&](const int64_t* off, int64_t o, int64_t len) {
      run_span(pa + off[0], ia, pb + off[1], ib, po + o, len, Op());
    });
  });
}

template <typename T>
bool run_kind(BinaryKind k, const void* a, const void* b, void* out, const BroadcastPlan& p) {
  switch (k) {
#define KW_K(K) \
  case BinaryKind::K: run_typed<BinaryKind::K, T>(a, b, out, p); return true;
    KW_K(kAdd)
    KW_K(kSub) KW_K(kMul) KW_K(kDiv) KW_K(kPow) KW_K(kMin) KW_K(kMax) KW_K(kEqual) KW_K(kGreater) KW_K(kLess)
        KW_K(kPRelu)
#undef KW_K
  }
  return false;
}

template <typename E>
void where_typed(const uint8_t* c, const void* x, const void* y, void* out, const BroadcastPlan& p) {
  const E* px = static_cast<const E*>(x);
  const E* py = static_cast<const E*>(y);
  E* po = static_cast<E*>(out);
  const int64_t ic = p.strides[0].back(), ix = p.strides[1].back(), iy = p.strides[2].back();
  parallel_for(p.numel, kGrain, [&](int64_t begin, int64_t end) {
    for_each_span<3>(p, begin, end, [&](const int64_t* off, int64_t o, int64_t len) {
      const uint8_t* cc = c + off[0];
      const E* xx = px + off[1];
      const E* yy = py + off[2];
      E* oo = po + o;
      if (ic == 1 && ix == 1 && iy == 1) {
        for (int64_t i = 0; i < len; ++i) oo[i] = cc[i] ? xx[i] : yy[i];
      } else if (ic == 0) {
        const E* src = *cc ? xx : yy;
        const int64_t is = *cc ? ix : iy;
        for (int64_t i = 0; i < len; ++i) oo[i] = src[i * is];
      } else {
        for (int64_t i = 0; i < len; ++i) oo[i] = cc[i * ic] ? xx[i * ix] : yy[i * iy];
      }
    });
  });
}

}  // namespace

BroadcastPlan make_broadcast_plan(const std::vector<Dims>& in_shapes, const Dims& out_shape) {
  BroadcastPlan p;
  const size_t n_in = in_shapes.size(), r = out_shape.size();
  // Full-rank strides of each input against the output.
  std::vector<Dims> st(n_in, Dims(r, 0));
  for (size_t k = 0; k < n_in; ++k) {
    const Dims& s = in_shapes[k];
    if (s.size() > r) return p;
    int64_t stride = 1;
    for (size_t d = s.size(); d-- > 0;) {
      size_t o = r - s.size() + d;
      if (s[d] != 1 && s[d] != out_shape[o]) return p;
      st[k][o] = s[d] == 1 ? 0 : stride;
      stride *= s[d];
    }
  }
  p.numel = 1;
  for (int64_t v : out_shape) p.numel *= v;
  // Drop size-1 output dims, then merge neighbours that every input walks through the same way.
  p.strides.assign(n_in, Dims());
  for (size_t d = 0; d < r; ++d) {
    if (out_shape[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t k = 0; merge && k < n_in; ++k)
      if (p.strides[k].back() != st[k][d] * out_shape[d]) merge = false;
    if (merge) {
      p.dims.back() *= out_shape[d];
      for (size_t k = 0; k < n_in; ++k) p.strides[k].back() = st[k][d];
    } else {
      p.dims.push_back(out_shape[d]);
      for (size_t k = 0; k < n_in; ++k) p.strides[k].push_back(st[k][d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (auto& s : p.strides) s.push_back(0);
  }
  p.ok = p.dims.size() <= static_cast<size_t>(kMaxDims);
  return p;
}

bool binary(BinaryKind k, DType dt, const void* a, const void* b, void* out, const BroadcastPlan& p) {
  if (!p.ok || p.strides.size() != 2) return false;
  if (p.numel == 0) return true;
  switch (dt) {
    case DType::kF32: return run_kind<float>(k, a, b, out, p);
    case DType::kF64: return run_kind<double>(k, a, b, out, p);
    case DType::kI8: return run_kind<int8_t>(k, a, b, out, p);
    case DType::kU8: return run_kind<uint8_t>(k, a, b, out, p);
    case DType::kBool: return k == BinaryKind::kEqual && run_kind<uint8_t>(k, a, b, out, p);
    case DType::kI16: return run_kind<int16_t>(k, a, b, out, p);
    case DType::kU16: return run_kind<uint16_t>(k, a, b, out, p);
    case DType::kI32: return run_kind<int32_t>(k, a, b, out, p);
    case DType::kU32: return run_kind<uint32_t>(k, a, b, out, p);
    case DType::kI64: return run_kind<int64_t>(k, a, b, out, p);
    case DType::kU64: return run_kind<uint64_t>(k, a, b, out, p);
    default: return false;
  }
}

void where(size_t es, const uint8_t* c, const void* x, const void* y, void* out, const BroadcastPlan& p) {
  if (!p.ok || p.strides.size() != 3 || p.numel == 0) return;
  switch (es) {
    case 1: where_typed<uint8_t>(c, x, y, out, p); break;
    case 2: where_typed<uint16_t>(c, x, y, out, p); break;
    case 4: where_typed<uint32_t>(c, x, y, out, p); break;
    case 8: where_typed<uint64_t>(c, x, y, out, p); break;
    default: break;
  }
}

}  // namespace kaiwu::kernels::x86
