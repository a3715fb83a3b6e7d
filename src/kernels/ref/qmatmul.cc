#include "kernels/ref/qmatmul.h"

#include <vector>

#include "core/qmath.h"

namespace kaiwu::kernels::ref {

namespace {

template <typename A, typename B>
void qgemm_typed(const A* a, const int32_t* a_zp, const B* b, const int32_t* b_zp, int32_t* acc, int64_t k, int64_t n,
                 int64_t row_begin, int64_t row_end) {
  std::vector<int32_t> brow(n);
  for (int64_t i = row_begin; i < row_end; ++i) {
    int32_t* out = acc + i * n;
    for (int64_t j = 0; j < n; ++j) out[j] = 0;
    const int32_t az = a_zp ? a_zp[i] : 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int32_t av = static_cast<int32_t>(a[i * k + kk]) - az;
      const B* bk = b + kk * n;
      for (int64_t j = 0; j < n; ++j) out[j] += av * (static_cast<int32_t>(bk[j]) - (b_zp ? b_zp[j] : 0));
    }
  }
}

template <typename A>
void qgemm_b(const A* a, const int32_t* a_zp, DType bt, const void* b, const int32_t* b_zp, int32_t* acc, int64_t k,
             int64_t n, int64_t rb, int64_t re) {
  if (bt == DType::kU8) qgemm_typed(a, a_zp, static_cast<const uint8_t*>(b), b_zp, acc, k, n, rb, re);
  else qgemm_typed(a, a_zp, static_cast<const int8_t*>(b), b_zp, acc, k, n, rb, re);
}

template <typename T>
void requant_typed(const int32_t* acc, T* y, int64_t n, const float* a_scale, const float* b_scale, float y_scale,
                   int32_t y_zp, int64_t rb, int64_t re) {
  for (int64_t i = rb; i < re; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float mult = a_scale[i] * b_scale[j] / y_scale;
      float v = qmath::round_half_even(static_cast<float>(acc[i * n + j]) * mult);
      if (v != v) v = 0.f;  // NaN (a zero scale) gives the zero point, as in requantize_s32
      y[i * n + j] = qmath::saturate_cast<T>(static_cast<double>(v) + y_zp);
    }
}

}  // namespace

void qgemm_s32(DType at, const void* a, const int32_t* a_zp, DType bt, const void* b, const int32_t* b_zp,
               int32_t* acc, int64_t m, int64_t k, int64_t n, int64_t row_begin, int64_t row_end) {
  if (at == DType::kU8) qgemm_b(static_cast<const uint8_t*>(a), a_zp, bt, b, b_zp, acc, k, n, row_begin, row_end);
  else qgemm_b(static_cast<const int8_t*>(a), a_zp, bt, b, b_zp, acc, k, n, row_begin, row_end);
}

void requantize_s32_rows_cols(const int32_t* acc, DType yt, void* y, int64_t m, int64_t n, const float* a_scale,
                              const float* b_scale, float y_scale, int32_t y_zp, int64_t row_begin, int64_t row_end) {
  if (yt == DType::kU8)
    requant_typed(acc, static_cast<uint8_t*>(y), n, a_scale, b_scale, y_scale, y_zp, row_begin, row_end);
  else
    requant_typed(acc, static_cast<int8_t*>(y), n, a_scale, b_scale, y_scale, y_zp, row_begin, row_end);
}

}  // namespace kaiwu::kernels::ref
