// AVX-512 (F/BW/VL/VBMI) kaiwu.Preprocess kernel, vectorized over 16 pixels of a row: bit-identical to
// kernels/ref/preprocess.h (same float operations in the same order, explicit fma where the reference uses fmaf).
// Falls back to the reference when compiled without those extensions.
#pragma once
#include <cstdint>

#include "kernels/ref/preprocess.h"

namespace kaiwu::kernels::x86 {

// True when this build has the vector kernel.
bool preprocess_available();
// As ref::preprocess: output rows [row_begin, row_end) of the batch * height rows.
void preprocess(const uint8_t* in, const uint8_t* uv, void* out, const ref::PreprocessParams& p, int64_t row_begin,
                int64_t row_end);

}  // namespace kaiwu::kernels::x86
