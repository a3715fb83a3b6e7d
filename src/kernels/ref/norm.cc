#include "kernels/ref/norm.h"

#include <cmath>

namespace kaiwu::kernels::ref {

void batch_norm_f32(const float* x, const float* scale, const float* bias, const float* mean, const float* var,
                    float eps, int64_t channels, int64_t inner, int64_t p0, int64_t p1, float* y) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t c = p % channels;
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    for (int64_t i = 0; i < inner; ++i)
      y[p * inner + i] = static_cast<float>((x[p * inner + i] - static_cast<double>(mean[c])) * inv * scale[c] + bias[c]);
  }
}

void batch_norm_fold_f32(const float* scale, const float* bias, const float* mean, const float* var, float eps,
                         int64_t channels, float* a, float* b) {
  for (int64_t c = 0; c < channels; ++c) {
    const double s = scale[c] / std::sqrt(static_cast<double>(var[c]) + eps);
    a[c] = static_cast<float>(s);
    b[c] = static_cast<float>(bias[c] - mean[c] * s);
  }
}

void channel_affine_f32(const float* x, const float* a, const float* b, int64_t channels, int64_t inner, int64_t p0,
                        int64_t p1, float* y) {
  for (int64_t p = p0; p < p1; ++p) {
    const float s = a[p % channels], t = b[p % channels];
    const float* xp = x + p * inner;
    float* yp = y + p * inner;
    for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * s + t;
  }
}

void channel_moments_f32(const float* x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                         float* mean, float* var) {
  const double count = static_cast<double>(batch * inner);
  for (int64_t c = c0; c < c1; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i) sum += x[(n * channels + c) * inner + i];
    const double m = count > 0 ? sum / count : 0.0;
    double sq = 0;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i) {
        double d = x[(n * channels + c) * inner + i] - m;
        sq += d * d;
      }
    mean[c] = static_cast<float>(m);
    var[c] = static_cast<float>(count > 0 ? sq / count : 0.0);
  }
}

void instance_norm_f32(const float* x, const float* scale, const float* bias, float eps, int64_t channels,
                       int64_t inner, int64_t p0, int64_t p1, float* y) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t c = p % channels;
    const float* xp = x + p * inner;
    double sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += xp[i];
    const double m = inner ? sum / inner : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < inner; ++i) sq += (xp[i] - m) * (xp[i] - m);
    const double inv = 1.0 / std::sqrt((inner ? sq / inner : 0.0) + eps);
    for (int64_t i = 0; i < inner; ++i) y[p * inner + i] = static_cast<float>((xp[i] - m) * inv * scale[c] + bias[c]);
  }
}

void layer_norm_f32(const float* x, const float* scale, const float* bias, float eps, int64_t cols, int64_t r0,
                    int64_t r1, float* y, float* mean, float* inv_std) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += xr[j];
    const double m = cols ? sum / cols : 0.0;
    double sq = 0;
    for (int64_t j = 0; j < cols; ++j) sq += (xr[j] - m) * (xr[j] - m);
    const double inv = 1.0 / std::sqrt((cols ? sq / cols : 0.0) + eps);
    for (int64_t j = 0; j < cols; ++j)
      y[r * cols + j] = static_cast<float>((xr[j] - m) * inv * scale[j] + (bias ? bias[j] : 0.f));
    if (mean) mean[r] = static_cast<float>(m);
    if (inv_std) inv_std[r] = static_cast<float>(inv);
  }
}

}  // namespace kaiwu::kernels::ref
