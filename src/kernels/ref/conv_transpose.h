// Scalar reference transposed convolution (1-D, 2-D, 3-D), over the shared ConvParams.
#pragma once
#include "kernels/ref/conv.h"

namespace kaiwu::kernels::ref {

// dst = post_ops(conv_transpose(src, weights) + bias); weights [C_in, C_out / groups, k...]; p.out_dims give the
// output size (ONNX output_padding / output_shape already applied). Accumulates in double.
// Computes the output planes (n, oc) with n * C_out + oc in [unit_begin, unit_end) (-1: all).
void conv_transpose_f32(const ConvParams& p, const float* src, const float* weights, const float* bias, float* dst,
                        int64_t unit_begin = 0, int64_t unit_end = -1);

}  // namespace kaiwu::kernels::ref
