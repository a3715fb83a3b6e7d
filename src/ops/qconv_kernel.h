// Shared inference and kernel of QLinearConv (requantized u8/i8 output) and ConvInteger (int32 output).
// Kernel choice: oneDNN int8 (kernels/x86/qconv_onednn.h) when the host has VNNI, the weight zero points make
// w - w_zp an s8 tensor, and oneDNN has a non-reference implementation; otherwise the scalar reference, split over
// output planes. Scales known at prepare time are fused into oneDNN; run-time scales use oneDNN's exact int32
// output and the AVX-512 requantization.
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
