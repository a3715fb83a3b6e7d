#include "kernels/ref/softmax.h"

#include <cmath>

namespace kaiwu::kernels::ref {

namespace {

template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* px = x + o * n * inner + i;
      T* py = y + o * n * inner + i;
      T m = px[0];
      for (int64_t j = 1; j < n; ++j) m = px[j * inner] > m ? px[j * inner] : m;
      double s = 0;
      for (int64_t j = 0; j < n; ++j) {
        T e = std::exp(px[j * inner] - m);
        py[j * inner] = e;
        s += e;
      }
      for (int64_t j = 0; j < n; ++j) py[j * inner] = static_cast<T>(py[j * inner] / s);
    }
  }
}

}  // namespace

void softmax_f32(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  softmax<float>(x, y, outer, n, inner);
}
void softmax_f64(const double* x, double* y, int64_t outer, int64_t n, int64_t inner) {
  softmax<double>(x, y, outer, n, inner);
}

}  // namespace kaiwu::kernels::ref
