#include "kernels/ref/unary.h"

#include <cmath>

namespace kaiwu::kernels::ref {

void unary_f32(const float* x, float* y, int64_t n, const UnaryParams& p) {
  switch (p.kind) {
    case UnaryKind::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
      break;
  }
}

}  // namespace kaiwu::kernels::ref
