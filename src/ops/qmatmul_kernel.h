// Shared inference and kernel of QLinearMatMul (requantized u8/i8 output) and MatMulInteger (int32 output), with
// numpy.matmul broadcasting and per-row (a) / per-column (b) scales and zero points.
// Kernel choice: oneDNN int8 matmul (kernels/x86/qmatmul_onednn.h) when the host has VNNI, zero points are per
// tensor, a_scale is per tensor, b_scale per tensor or per column, and the batch layout maps onto one 2-D or
// batched 3-D product; otherwise the scalar reference, split over output rows.
#pragma once
#include <memory>

#include "ops/op_def.h"

namespace kaiwu::ops {

// Input positions of the op (-1: the op has no such input).
struct QMatMulInputs {
  int a = 0, a_scale = -1, a_zp = -1, b = 1, b_scale = -1, b_zp = -1, y_scale = -1, y_zp = -1;
  bool qlinear() const { return y_scale >= 0; }
};

Status infer_qmatmul(InferContext& ctx, const QMatMulInputs& ix);
Status create_qmatmul(const KernelInit& init, const QMatMulInputs& ix, std::unique_ptr<Kernel>* out);

}  // namespace kaiwu::ops
