#include "kernels/ref/binary.h"

#include <cstring>

namespace kaiwu::kernels::ref {

namespace {

// Element strides of `in` when broadcast to `out` (0 along broadcast dims).
Dims bstrides(const Dims& in, const Dims& out) {
  Dims st(out.size(), 0);
  int64_t s = 1;
  for (size_t k = in.size(); k-- > 0;) {
    size_t o = out.size() - in.size() + k;
    st[o] = in[k] == 1 ? 0 : s;
    s *= in[k];
  }
  return st;
}

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

// Offset into a broadcast input of output element i.
int64_t offset_of(int64_t i, const Dims& out, const Dims& st) {
  int64_t off = 0;
  for (size_t k = out.size(); k-- > 0;) {
    off += (i % out[k]) * st[k];
    i /= out[k];
  }
  return off;
}

template <BinaryKind K, typename T>
void run(const void* a, const Dims& as, const void* b, const Dims& bs, void* out, const Dims& os) {
  using Op = BinaryOp<K, T>;
  using U = typename Op::Out;
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  U* po = static_cast<U*>(out);
  Dims sa = bstrides(as, os), sb = bstrides(bs, os);
  Op op;
  const int64_t n = numel(os);
  for (int64_t i = 0; i < n; ++i) po[i] = op(pa[offset_of(i, os, sa)], pb[offset_of(i, os, sb)]);
}

template <typename T>
bool run_kind(BinaryKind k, const void* a, const Dims& as, const void* b, const Dims& bs, void* out, const Dims& os) {
  switch (k) {
#define KW_K(K) \
  case BinaryKind::K: run<BinaryKind::K, T>(a, as, b, bs, out, os); return true;
    KW_K(kAdd)
    KW_K(kSub) KW_K(kMul) KW_K(kDiv) KW_K(kPow) KW_K(kMin) KW_K(kMax) KW_K(kEqual) KW_K(kGreater) KW_K(kLess)
        KW_K(kPRelu)
#undef KW_K
  }
  return false;
}

}  // namespace

const char* binary_kind_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::kAdd: return "Add";
    case BinaryKind::kSub: return "Sub";
    case BinaryKind::kMul: return "Mul";
    case BinaryKind::kDiv: return "Div";
    case BinaryKind::kPow: return "Pow";
    case BinaryKind::kMin: return "Min";
    case BinaryKind::kMax: return "Max";
    case BinaryKind::kEqual: return "Equal";
    case BinaryKind::kGreater: return "Greater";
    case BinaryKind::kLess: return "Less";
    case BinaryKind::kPRelu: return "PRelu";
  }
  return "?";
}

bool binary_is_comparison(BinaryKind k) {
  return k == BinaryKind::kEqual || k == BinaryKind::kGreater || k == BinaryKind::kLess;
}

bool binary_supports(BinaryKind k, DType dt) {
  if (dt == DType::kBool) return k == BinaryKind::kEqual;
  return dt == DType::kF32 || dt == DType::kF64 || dtype_is_integer(dt);
}

bool binary(BinaryKind k, DType dt, const void* a, const Dims& as, const void* b, const Dims& bs, void* out,
            const Dims& os) {
  if (!binary_supports(k, dt)) return false;
  switch (dt) {
    case DType::kF32: return run_kind<float>(k, a, as, b, bs, out, os);
    case DType::kF64: return run_kind<double>(k, a, as, b, bs, out, os);
    case DType::kI8: return run_kind<int8_t>(k, a, as, b, bs, out, os);
    case DType::kU8:
    case DType::kBool: return run_kind<uint8_t>(k, a, as, b, bs, out, os);
    case DType::kI16: return run_kind<int16_t>(k, a, as, b, bs, out, os);
    case DType::kU16: return run_kind<uint16_t>(k, a, as, b, bs, out, os);
    case DType::kI32: return run_kind<int32_t>(k, a, as, b, bs, out, os);
    case DType::kU32: return run_kind<uint32_t>(k, a, as, b, bs, out, os);
    case DType::kI64: return run_kind<int64_t>(k, a, as, b, bs, out, os);
    case DType::kU64: return run_kind<uint64_t>(k, a, as, b, bs, out, os);
    default: return false;
  }
}

void where(size_t es, const uint8_t* c, const Dims& cs, const void* x, const Dims& xs, const void* y, const Dims& ys,
           void* out, const Dims& os) {
  Dims sc = bstrides(cs, os), sx = bstrides(xs, os), sy = bstrides(ys, os);
  const uint8_t* px = static_cast<const uint8_t*>(x);
  const uint8_t* py = static_cast<const uint8_t*>(y);
  uint8_t* po = static_cast<uint8_t*>(out);
  const int64_t n = numel(os);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* src = c[offset_of(i, os, sc)] ? px + offset_of(i, os, sx) * es : py + offset_of(i, os, sy) * es;
    std::memcpy(po + i * es, src, es);
  }
}

}  // namespace kaiwu::kernels::ref
