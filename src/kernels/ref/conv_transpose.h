// Scalar reference transposed convolution (1-D, 2-D, 3-D), over the shared ConvParams.
#pragma once
#include "kernels/ref/conv.h"

namespace kaiwu::kernels::ref {

// dst = post_ops(conv_transpose(src, weights) + bias); weights [C_in, C_out / groups, k...]; p.out_dims give the
// output size (ONNX output_padding / output_shape already applied). Accumulates in double.
void conv_transpose_f32(const ConvParams& p, const float* src, const float* weights, const float* bias, float* dst);

}  // namespace kaiwu::kernels::ref
