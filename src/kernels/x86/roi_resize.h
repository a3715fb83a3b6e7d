// AVX-512 (F/BW) kaiwu.RoiResize plane kernel, 16 output pixels per step with 32-bit gathers of neighbour pairs:
// bit-identical to kernels/ref/roi_resize.h (the same integer formula). Falls back to the reference when compiled
// without those extensions or for planes narrower than 2 pixels.
#pragma once
#include <cstdint>

#include "kernels/ref/roi_resize.h"

namespace kaiwu::kernels::x86 {

// True when this build has the vector kernel.
bool roi_resize_available();
// As ref::roi_resize_plane (channels 1 or 2; others use the reference). `src_h` is the plane's height (rows), used
// to keep every read inside the plane.
void roi_resize_plane(const uint8_t* src, int64_t src_h, int64_t src_w, int channels, const ref::RoiAxis& ay,
                      const ref::RoiAxis& ax, uint8_t* dst, int64_t row_begin, int64_t row_end);

}  // namespace kaiwu::kernels::x86
