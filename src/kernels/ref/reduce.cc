#include "kernels/ref/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace kaiwu::kernels::ref {

namespace {

template <typename T>
bool greater_nan(T a, T b) {  // a > b, with NaN greater than everything and the first NaN kept
  if constexpr (std::is_floating_point_v<T>) {
    if (b != b) return false;
    if (a != a) return true;
  }
  return a > b;
}

template <typename T>
void reduce_typed(ReduceKind k, const T* x, const std::vector<int64_t>& shape, const std::vector<bool>& red, T* y) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  using Acc = std::conditional_t<kFloat, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
  const size_t r = shape.size();
  int64_t n_in = 1, n_out = 1, count = 1;
  std::vector<int64_t> out_stride(r, 0);  // output stride per input dim (0 for reduced dims)
  for (size_t d = r; d-- > 0;) {
    n_in *= shape[d];
    if (red[d]) {
      count *= shape[d];
    } else {
      out_stride[d] = n_out;
      n_out *= shape[d];
    }
  }
  std::vector<Acc> acc(static_cast<size_t>(n_out),
                       k == ReduceKind::kMax ? Acc(std::numeric_limits<T>::lowest()) : Acc(0));
  if (k == ReduceKind::kMax && kFloat)
    for (auto& a : acc) a = -std::numeric_limits<Acc>::infinity();
  for (int64_t i = 0; i < n_in; ++i) {
    int64_t rest = i, j = 0;
    for (size_t d = r; d-- > 0;) {
      j += (rest % shape[d]) * out_stride[d];
      rest /= shape[d];
    }
    const Acc v = static_cast<Acc>(x[i]);
    if (k == ReduceKind::kMax) {
      if (greater_nan(v, acc[j])) acc[j] = v;
    } else if constexpr (std::is_same_v<Acc, int64_t>) {
      acc[j] = static_cast<int64_t>(static_cast<uint64_t>(acc[j]) + static_cast<uint64_t>(v));  // wraps
    } else {
      acc[j] += v;
    }
  }
  for (int64_t j = 0; j < n_out; ++j) {
    Acc a = acc[j];
    if (k == ReduceKind::kMean) {
      if constexpr (kFloat)
        a = a / static_cast<Acc>(count);
      else
        a = count > 0 ? a / static_cast<Acc>(count) : Acc(0);
    }
    y[j] = static_cast<T>(a);
  }
}

template <typename T>
void arg_max_typed(const T* x, int64_t outer, int64_t n, int64_t inner, bool last, int64_t* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * n * inner + i;
      T best = p[0];
      int64_t bi = 0;
      for (int64_t j = 1; j < n; ++j) {
        T v = p[j * inner];
        if (last ? !greater_nan(best, v) : greater_nan(v, best)) {
          best = v;
          bi = j;
        }
      }
      y[o * inner + i] = bi;
    }
  }
}

}  // namespace

bool reduce(ReduceKind k, DType dt, const void* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
            void* y) {
#define KW_REDUCE(T) reduce_typed<T>(k, static_cast<const T*>(x), shape, reduced, static_cast<T*>(y))
  switch (dt) {
    case DType::kF32: KW_REDUCE(float); return true;
    case DType::kF64: KW_REDUCE(double); return true;
    case DType::kI8: KW_REDUCE(int8_t); return true;
    case DType::kU8: KW_REDUCE(uint8_t); return true;
    case DType::kI16: KW_REDUCE(int16_t); return true;
    case DType::kU16: KW_REDUCE(uint16_t); return true;
    case DType::kI32: KW_REDUCE(int32_t); return true;
    case DType::kU32: KW_REDUCE(uint32_t); return true;
    case DType::kI64: KW_REDUCE(int64_t); return true;
    case DType::kU64: KW_REDUCE(uint64_t); return true;
    default: return false;
  }
#undef KW_REDUCE
}

bool arg_max(DType dt, const void* x, int64_t outer, int64_t n, int64_t inner, bool select_last, int64_t* y) {
  if (n <= 0) return false;
#define KW_ARGMAX(T) arg_max_typed<T>(static_cast<const T*>(x), outer, n, inner, select_last, y)
  switch (dt) {
    case DType::kF32: KW_ARGMAX(float); return true;
    case DType::kF64: KW_ARGMAX(double); return true;
    case DType::kI8: KW_ARGMAX(int8_t); return true;
    case DType::kU8: KW_ARGMAX(uint8_t); return true;
    case DType::kI16: KW_ARGMAX(int16_t); return true;
    case DType::kU16: KW_ARGMAX(uint16_t); return true;
    case DType::kI32: KW_ARGMAX(int32_t); return true;
    case DType::kU32: KW_ARGMAX(uint32_t); return true;
    case DType::kI64: KW_ARGMAX(int64_t); return true;
    case DType::kU64: KW_ARGMAX(uint64_t); return true;
    default: return false;
  }
#undef KW_ARGMAX
}

}  // namespace kaiwu::kernels::ref
