// Resize parameters shared by the Resize/Upsample kernels, the per-axis sampling taps they are built from, and the
// scalar reference (N-d, every ONNX mode up to opset 19).
#pragma once
#include <cstdint>
#include <vector>

namespace kaiwu::kernels {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class ResizeCoord {
  kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNn, kTfCropAndResize
};
// kSimple: opset < 11 behaviour (Upsample, Resize-10): ceil when downsampling, floor otherwise.
enum class ResizeNearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeParams {
  std::vector<int64_t> in_shape, out_shape;
  std::vector<double> scales;               // per axis, used by the coordinate transform
  std::vector<double> roi_start, roi_end;   // per axis, normalized (tf_crop_and_resize)
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoord coord = ResizeCoord::kHalfPixel;
  ResizeNearest nearest = ResizeNearest::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  bool antialias = false;                   // linear/cubic: stretch the filter by 1/scale when downsampling
  float extrapolation_value = 0.f;
};

// The samples of one axis: output o reads input index[o * taps + t] with weight[o * taps + t] (indices clamped
// into the input); outside[o] marks tf_crop_and_resize positions that take extrapolation_value.
struct ResizeTaps {
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<uint8_t> outside;
  bool identity = false;  // the axis is not resized (out == in, scale 1, no crop)
};

namespace ref {

// The taps of `axis` (the ONNX reference's coordinate transform and coefficient rules).
ResizeTaps resize_axis_taps(const ResizeParams& p, int axis);

// y = resize(x): the tensor product of every axis' taps, in double; extrapolation_value where any axis is outside.
template <typename T>
void resize(const ResizeParams& p, const T* x, T* y);

}  // namespace ref
}  // namespace kaiwu::kernels
