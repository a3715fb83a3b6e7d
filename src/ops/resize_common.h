// Shared by Resize and Upsample: attribute parsing, output shape from scales or sizes, and kernel creation.
#pragma once
#include <string>
#include <vector>

#include "kernels/ref/resize.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// Mode, coordinate transform, nearest rounding, cubic/exclude/extrapolation/antialias for Resize at `opset`
// (opset 10 and Upsample use asymmetric coordinates and the legacy nearest rounding).
Status resize_attrs(const ir::Node& node, int64_t opset, bool is_upsample, kernels::ResizeParams* p);

// Fills in_shape/out_shape/scales/roi of `p` for input shape `x` from `scales` or `sizes` (either may be null or
// empty), honouring Resize-18's `axes` and keep_aspect_ratio_policy. `roi` may be null.
Status resize_geometry(const ir::Node& node, const Shape& x, const Tensor* roi, const Tensor* scales,
                       const Tensor* sizes, kernels::ResizeParams* p);

// A kernel for `p` over dtype `t`: the optimized plane resize for f32 when it applies, else the reference.
Status create_resize_kernel(const KernelInit& init, DType t, const kernels::ResizeParams& p,
                            std::unique_ptr<Kernel>* out);

}  // namespace kaiwu::ops
