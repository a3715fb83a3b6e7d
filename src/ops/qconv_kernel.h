// Shared inference and kernel of QLinearConv (requantized u8/i8 output) and ConvInteger (int32 output).
// Kernel choice: oneDNN int8 (kernels/x86/qconv_onednn.h) when the host has VNNI, the weight zero points make
// w - w_zp an s8 tensor, and oneDNN has a non-reference implementation; otherwise the scalar reference, split over
// output planes. Scales known at prepare time are fused into oneDNN; run-time scales use oneDNN's exact int32
// output and the AVX-512 requantization.
//
// int16 (QLinearConv / kaiwu.QLinearConv only, for the int16 nodes of the fixed-point model): x and / or y may be
// int16 (int16 x: zero point 0 on the fast path). The accumulation is exact in int64 and the requantization is
//   y = saturate(round_half_even((double)(acc + bias) * (double)M[m]) + y_zp),  M[m] = x_scale * w_scale[m] / y_scale
// with M computed in float like the int8 path (kernels/ref/qconv16.h). Kernels: the scalar reference (whole output
// planes per chunk); for int16 x in NHWC with constant symmetric weights, the direct AVX-512 VNNI kernels
// (kernels/x86/qconv16_direct.h: pointwise, depthwise, one group with 16..511 channels); for other int16 x,
// x = 256 * (x >> 8) + (x & 255) runs as two exact oneDNN int8 convolutions (kernels/x86/qconv16.h); for an 8-bit x
// with an int16 y, oneDNN's raw int32 output. All bit-identical.
//
// kaiwu.QLinearConv may carry y_min / y_max (integers in output units; a Relu / Clip fused by the CPU passes): the
// output is clamped to them (inside the direct kernels' requantization, else after it).
#pragma once
#include <memory>

#include "ops/op_def.h"

namespace kaiwu::ops {

// Input positions of the op (-1: the op has no such input).
struct QConvInputs {
  int x = 0, x_scale = -1, x_zp = -1, w = 1, w_scale = -1, w_zp = -1, y_scale = -1, y_zp = -1, bias = -1;
  bool qlinear() const { return y_scale >= 0; }
};

Status infer_qconv(InferContext& ctx, const QConvInputs& ix);
Status create_qconv(const KernelInit& init, const QConvInputs& ix, std::unique_ptr<Kernel>* out);

}  // namespace kaiwu::ops
