// Scalar reference kernel of kaiwu.Preprocess: uint8 image (packed NHWC or nv12 planes) -> colour conversion ->
// (v - mean[c]) * scale[c] -> float32, or quantized to int8 / uint8, in NCHW or NHWC layout.
// Pure: pointers in, pointers out; no IR includes.
#pragma once
#include <cstdint>
#include <string>

#include "kaiwu/dtype.h"

namespace kaiwu::kernels::ref {

struct PreprocessParams {
  int64_t batch = 1, height = 0, width = 0;
  // Input: packed [N, H, W, in_channels] uint8 (in_channels 1 or 3), or nv12: a Y plane [H, W] and an interleaved
  // UV plane [H/2, W/2, 2] per image (U and V repeated 2x2: nearest upsampling to yuv444).
  bool nv12 = false;
  int in_channels = 3;
  int64_t in_batch_stride = 0;   // bytes between images of the packed input / the Y plane
  int64_t uv_batch_stride = 0;   // bytes between images of the UV plane (nv12)
  int out_channels = 3;          // 1 or 3
  // Colour: affine == false: out[c] = in[perm[c]] (identity, rgb<->bgr swap);
  // affine == true: out[c] = clamp(base[c] + sum_k mat[c][k] * (in[k] - off[k]), 0, 255), the sum evaluated as
  // fmaf(mat[c][2], d2, fmaf(mat[c][1], d1, fmaf(mat[c][0], d0, base[c]))).
  bool affine = false;
  int perm[3] = {0, 1, 2};
  float off[3] = {0, 0, 0}, base[3] = {0, 0, 0};
  float mat[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  float mean[3] = {0, 0, 0}, scale[3] = {1, 1, 1};  // y = (v - mean[c]) * scale[c] (float32, no fma)
  bool nchw = true;              // output [N, C, H, W] (else [N, H, W, C])
  DType out_type = DType::kF32;  // f32, or i8 / u8: q = saturate(round_half_even(y / q_scale) + q_zero_point)
  float q_scale = 1.f;
  int32_t q_zero_point = 0;
};

// Fills the colour part of `p` (out_channels, affine, perm, off, base, mat) for the conversion from the runtime type
// `rt` (nv12 yuv444 rgb bgr gray) to the training type `train` (rgb bgr yuv444 gray) with `range` regular (full-range
// BT.601) or bt601_video (nv12 only). Sets p->nv12 and p->in_channels too. Returns "" or the reason it is illegal.
std::string preprocess_colour(const std::string& rt, const std::string& train, const std::string& range,
                              PreprocessParams* p);

// Computes the output rows [row_begin, row_end) of the batch * height rows (all channels of each row).
// `in`: packed image or Y plane; `uv`: UV plane (nv12) or null; `out`: the output tensor's data.
void preprocess(const uint8_t* in, const uint8_t* uv, void* out, const PreprocessParams& p, int64_t row_begin,
                int64_t row_end);

// Host-side frame maker (for feeding nv12 deployable models from rgb/bgr images, e.g. in evaluation): converts an
// interleaved [H, W, 3] uint8 image (rgb, or bgr when `bgr`) to an nv12 Y plane [H, W] and UV plane [H/2, W/2, 2]
// with the spec §6 BT.601 forward formulas (full range: Y=.299R+.587G+.114B, U=-.169R-.331G+.5B+128,
// V=.5R-.419G-.081B+128; video: Y=.257R+.504G+.098B+16, U=-.148R-.291G+.439B+128, V=.439R-.368G-.071B+128),
// rounded half away from zero and clipped to 0..255, chroma taken from the even rows and columns ([::2, ::2]).
// H and W must be even.
void rgb_to_nv12(const uint8_t* image, int64_t height, int64_t width, bool bgr, bool video, uint8_t* y, uint8_t* uv);

}  // namespace kaiwu::kernels::ref
