// Training-mode Dropout: the keep mask and the scaled output. The mask uses numpy's legacy generator (MT19937,
// RandomState(seed).random_sample), so results are reproducible and match ONNX's reference implementation.
#pragma once
#include <cstdint>

namespace kaiwu::kernels::ref {

// keep[i] = u_i >= ratio for the first n uniform doubles u_i of RandomState(seed).
void dropout_keep_mask(uint32_t seed, double ratio, int64_t n, bool* keep);

// y[i] = keep[i] ? x[i] * scale : 0. x and y may alias.
void dropout_apply_f32(const float* x, const bool* keep, float scale, float* y, int64_t n);
void dropout_apply_f64(const double* x, const bool* keep, double scale, double* y, int64_t n);
void dropout_apply_f16(const uint16_t* x, const bool* keep, float scale, uint16_t* y, int64_t n);

}  // namespace kaiwu::kernels::ref
