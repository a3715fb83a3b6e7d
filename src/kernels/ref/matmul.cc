#include "kernels/ref/matmul.h"

#include <algorithm>
#include <sstream>
#include <type_traits>

namespace kaiwu::kernels {

std::vector<int64_t> MatmulParams::out_batch() const {
  std::vector<int64_t> o(a_batch.size());
  for (size_t i = 0; i < o.size(); ++i) o[i] = std::max(a_batch[i], b_batch[i]);
  return o;
}

int64_t MatmulParams::batch_count() const {
  int64_t c = 1;
  for (int64_t d : out_batch()) c *= d;
  return c;
}

std::string MatmulParams::describe() const {
  std::ostringstream os;
  os << "matmul";
  for (size_t i = 0; i < a_batch.size(); ++i) os << (i ? "x" : " [") << a_batch[i] << "|" << b_batch[i];
  if (!a_batch.empty()) os << "]";
  os << " M" << m << " K" << k << " N" << n << (trans_a ? " tA" : "") << (trans_b ? " tB" : "");
  if (alpha != 1.f) os << " alpha" << alpha;
  if (has_bias) os << " bias" << bias_m << "x" << bias_n;
  return os.str();
}

namespace ref {

template <typename T>
void matmul(const MatmulParams& p, const T* a, const T* b, const T* bias, T* y) {
  using Acc = std::conditional_t<std::is_floating_point<T>::value, double, int64_t>;
  const std::vector<int64_t> ob = p.out_batch();
  const size_t r = ob.size();
  const int64_t count = p.batch_count();
  std::vector<int64_t> idx(r, 0);
  for (int64_t bi = 0; bi < count; ++bi) {
    // Offsets of this batch in A and B (broadcast dims contribute nothing).
    int64_t ao = 0, bo = 0;
    for (size_t d = 0; d < r; ++d) {
      ao = ao * p.a_batch[d] + (p.a_batch[d] == 1 ? 0 : idx[d]);
      bo = bo * p.b_batch[d] + (p.b_batch[d] == 1 ? 0 : idx[d]);
    }
    const T* A = a + ao * p.m * p.k;
    const T* B = b + bo * p.k * p.n;
    T* Y = y + bi * p.m * p.n;
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        Acc acc = 0;
        for (int64_t kk = 0; kk < p.k; ++kk) {
          Acc av = p.trans_a ? A[kk * p.m + i] : A[i * p.k + kk];
          Acc bv = p.trans_b ? B[j * p.k + kk] : B[kk * p.n + j];
          acc += av * bv;
        }
        if constexpr (std::is_floating_point<T>::value) {
          double v = static_cast<double>(p.alpha) * acc;
          if (p.has_bias) v += bias[(p.bias_m == 1 ? 0 : i) * p.bias_n + (p.bias_n == 1 ? 0 : j)];
          T* out = Y + i * p.n + j;
          if constexpr (std::is_same<T, float>::value) *out = apply_post_ops(p.post_ops, static_cast<float>(v), *out);
          else *out = static_cast<T>(v);
        } else {
          Acc v = acc;
          if (p.has_bias) v += bias[(p.bias_m == 1 ? 0 : i) * p.bias_n + (p.bias_n == 1 ? 0 : j)];
          Y[i * p.n + j] = static_cast<T>(v);
        }
      }
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < ob[d]) break;
      idx[d] = 0;
    }
  }
}

template void matmul<float>(const MatmulParams&, const float*, const float*, const float*, float*);
template void matmul<double>(const MatmulParams&, const double*, const double*, const double*, double*);
template void matmul<int32_t>(const MatmulParams&, const int32_t*, const int32_t*, const int32_t*, int32_t*);
template void matmul<int64_t>(const MatmulParams&, const int64_t*, const int64_t*, const int64_t*, int64_t*);
template void matmul<uint32_t>(const MatmulParams&, const uint32_t*, const uint32_t*, const uint32_t*, uint32_t*);
template void matmul<uint64_t>(const MatmulParams&, const uint64_t*, const uint64_t*, const uint64_t*, uint64_t*);

}  // namespace ref
}  // namespace kaiwu::kernels
