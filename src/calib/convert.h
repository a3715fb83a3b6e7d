// Element-type conversion and finiteness checks used by the calibration readers and observers.
#pragma once
#include <cstdint>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::calib {

// Converts any numeric tensor (not bool) to `dst`. Float -> integer rounds half to even and saturates.
// Returns the same tensor (no copy) when the dtype already matches.
Status convert_tensor(const Tensor& src, DType dst, Tensor* out);
// Index of the first NaN or +-Inf element of a float tensor (f32/f16/f64), or -1 (always -1 for integer tensors).
int64_t first_non_finite(const Tensor& t);

}  // namespace kaiwu::calib
