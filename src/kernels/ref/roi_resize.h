// Reference kernel of kaiwu.RoiResize (the resizer input source, horizon_ptq_spec.md §1.4 / §4.4
// insert_roi_resize): bilinear crop-and-resize of an ROI of an nv12 (or gray) frame to the model's input size.
// Pure: pointers in, pointers out; no IR includes.
//
// Sampling (align_corners = false, half-pixel centres over the ROI, clamped at the frame border):
// the ROI (left, top, right, bottom), inclusive pixel coordinates, covers the continuous luma area
// [left, right + 1) x [top, bottom + 1). A plane subsampled by s (1 for Y, 2 for the UV plane of nv12) with n_out
// output samples along an axis takes output sample o from the plane coordinate
//   p = (start + (o + 0.5) * len / n_out) / s - 0.5      (start = left or top, len = right - left + 1, ...)
// computed in double, clamped to [0, plane_size - 1]; i0 = floor(p), i1 = min(i0 + 1, plane_size - 1) and the
// weight of i1, frac(p), is rounded to 11 bits (wq = round(frac * 2048); wq == 2048 moves to i0 + 1 with wq 0).
// Output = (sum of the 4 neighbours times their integer weights (2048 - wq_x or wq_x) x (2048 - wq_y or wq_y)
// + 2^21) >> 22: exact integer arithmetic (identical for every implementation and thread count), within 0.5 (the
// rounding) + 0.125 (each weight off by <= 2^-12 times a neighbour difference <= 255, on two axes) of the
// real-valued bilinear interpolation. U and V are interpolated independently.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kaiwu::kernels::ref {

struct RoiResizeParams {
  int64_t batch = 1;
  int64_t frame_h = 0, frame_w = 0;  // luma size of the input frame (even for nv12)
  int64_t out_h = 0, out_w = 0;      // luma size of the output (even for nv12)
  bool nv12 = true;                  // false: gray (Y plane only)
};

// One axis of the sampling: per output sample, the two source indices and the 11-bit weight of the second.
struct RoiAxis {
  std::vector<int32_t> i0, i1;
  std::vector<int32_t> w;  // 0..2047
};

// The ROI check: "" when 0 <= left <= right < frame_w and 0 <= top <= bottom < frame_h, else the reason.
std::string check_roi(const int32_t* roi, int64_t frame_h, int64_t frame_w);

// The sampling table of one axis (see the header comment): `start`/`len` in luma pixels, `sub` 1 or 2, `n_out`
// output samples, `plane` the plane's size along the axis.
void roi_axis(int64_t start, int64_t len, int sub, int64_t n_out, int64_t plane, RoiAxis* out);

// Resizes one plane of `channels` interleaved channels: rows [row_begin, row_end) of the output plane
// [ay.size(), ax.size(), channels] from `src` (row stride src_w * channels).
void roi_resize_plane(const uint8_t* src, int64_t src_w, int channels, const RoiAxis& ay, const RoiAxis& ax,
                      uint8_t* dst, int64_t row_begin, int64_t row_end);

}  // namespace kaiwu::kernels::ref
