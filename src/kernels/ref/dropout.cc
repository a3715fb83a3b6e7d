#include "kernels/ref/dropout.h"

#include <random>

#include "core/half.h"

namespace kaiwu::kernels::ref {

void dropout_keep_mask(uint32_t seed, double ratio, int64_t n, bool* keep) {
  std::mt19937 gen(seed);  // same seeding (init_genrand) and output as numpy's legacy MT19937
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t a = gen() >> 5, b = gen() >> 6;  // numpy's 53-bit random_sample
    const double u = (a * 67108864.0 + b) / 9007199254740992.0;
    keep[i] = u >= ratio;
  }
}

void dropout_apply_f32(const float* x, const bool* keep, float scale, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : 0.f;
}

void dropout_apply_f64(const double* x, const bool* keep, double scale, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : 0.0;
}

void dropout_apply_f16(const uint16_t* x, const bool* keep, float scale, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? float_to_half(half_to_float(x[i]) * scale) : uint16_t{0};
}

}  // namespace kaiwu::kernels::ref
