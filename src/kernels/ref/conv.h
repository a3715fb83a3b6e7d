// Convolution parameters shared by all conv kernels, and the scalar reference convolution (1-D, 2-D, 3-D).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ref/post_ops.h"

namespace kaiwu::kernels {

// Geometry of a (grouped, dilated, padded) convolution with concrete shapes. Spatial vectors have 1..3 entries.
// Weights are always ONNX's [C_out, C_in / groups, k...] for Conv and [C_in, C_out / groups, k...] for ConvTranspose.
// For ConvTranspose, in_dims/out_dims are the transposed conv's own input/output sizes (out_dims already include
// output_padding / output_shape) and pads are ONNX's pads.
struct ConvParams {
  int64_t batch = 1;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t groups = 1;
  std::vector<int64_t> in_dims, out_dims;       // spatial sizes
  std::vector<int64_t> kernel, strides, dilations;  // dilation 1 = dense (ONNX convention)
  std::vector<int64_t> pads_begin, pads_end;
  bool has_bias = false;
  ActLayout src_layout = ActLayout::kNCHW;  // activations; weights stay in ONNX layout
  ActLayout dst_layout = ActLayout::kNCHW;  // may differ from src_layout (a layout change at a graph boundary)
  std::vector<PostOp> post_ops;         // applied in order after bias

  int spatial_rank() const { return static_cast<int>(in_dims.size()); }
  // Elements of src / dst / weights.
  int64_t src_size() const;
  int64_t dst_size() const;
  int64_t weights_size(bool transposed = false) const;
  bool has_sum() const;
  void set_layout(ActLayout l) { src_layout = dst_layout = l; }
  // A one-line description for messages and benchmarks: "conv 1x64x56x56 -> 64 k3x3 s1 p1 g1".
  std::string describe() const;
};

namespace ref {

// Checks the params are self-consistent (positive sizes, channel counts divisible by groups, out_dims matching).
// Returns an empty string when valid, else the reason.
std::string check_conv_params(const ConvParams& p, bool transposed);

// The spatial geometry padded to 3 dims (leading dims of size 1), so one loop nest serves 1-D, 2-D and 3-D.
struct Spatial3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
};
Spatial3 to_spatial3(const ConvParams& p);

// Element offset of (n, c, z, y, x) in an activation tensor of the given layout, channels and 3-D sizes.
inline int64_t act_offset(ActLayout l, int64_t n, int64_t c, int64_t z, int64_t y, int64_t x, int64_t channels,
                          const int64_t* dims) {
  if (l == ActLayout::kNCHW) return (((n * channels + c) * dims[0] + z) * dims[1] + y) * dims[2] + x;
  return (((n * dims[0] + z) * dims[1] + y) * dims[2] + x) * channels + c;
}

// dst = post_ops(conv(src, weights) + bias). Accumulates in double. With a kSum post-op dst holds the summand on entry.
// Computes the output planes (n, oc) with n * C_out + oc in [unit_begin, unit_end) (-1: all), so callers may split
// the planes over threads without changing any result.
void conv_f32(const ConvParams& p, const float* src, const float* weights, const float* bias, float* dst,
              int64_t unit_begin = 0, int64_t unit_end = -1);

}  // namespace ref
}  // namespace kaiwu::kernels
