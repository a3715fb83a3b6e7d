// Scalar reference normalization kernels (BatchNormalization, InstanceNormalization, LayerNormalization).
// Tensors are viewed as [outer, channels, inner]; functions take a range of independent units so callers can
// split work over threads without changing results.
#pragma once
#include <cstdint>

namespace kaiwu::kernels::ref {

// Inference batch norm on planes [p0, p1) of x [N, C, inner] (plane = n * C + c):
// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
void batch_norm_f32(const float* x, const float* scale, const float* bias, const float* mean, const float* var,
                    float eps, int64_t channels, int64_t inner, int64_t p0, int64_t p1, float* y);

// Folds batch-norm parameters into y = x * a[c] + b[c].
void batch_norm_fold_f32(const float* scale, const float* bias, const float* mean, const float* var, float eps,
                         int64_t channels, float* a, float* b);

// y = x * a[c] + b[c] on planes [p0, p1) of x [N, C, inner]. x and y may alias.
void channel_affine_f32(const float* x, const float* a, const float* b, int64_t channels, int64_t inner, int64_t p0,
                        int64_t p1, float* y);

// Per-channel mean and population variance of x [N, C, inner] over N and inner, for channels [c0, c1).
void channel_moments_f32(const float* x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                         float* mean, float* var);

// Instance norm on planes [p0, p1) of x [N, C, inner]: each plane normalized by its own mean/variance, then
// scaled by scale[c] and shifted by bias[c].
void instance_norm_f32(const float* x, const float* scale, const float* bias, float eps, int64_t channels,
                       int64_t inner, int64_t p0, int64_t p1, float* y);

// Layer norm on rows [r0, r1) of x [rows, cols]: y = (x - mean) * inv_std * scale[j] + bias[j] (bias may be null).
// mean / inv_std (per row) may be null.
void layer_norm_f32(const float* x, const float* scale, const float* bias, float eps, int64_t cols, int64_t r0,
                    int64_t r1, float* y, float* mean, float* inv_std);

}  // namespace kaiwu::kernels::ref
