// Graph passes. Each rewrites the model in place and reports whether it changed anything.
// Standard passes keep the graph pure ONNX (for the optimized-float stage model); CPU passes introduce ops of the
// "kaiwu" domain (fused convolutions, NHWC layouts) that only Kaiwu's runtime executes.
#pragma once
#include <map>
#include <string>
#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::passes {

// Constant nodes become initializers.
Status lift_constants(ir::Model& m, bool* changed);
// Conv (or ConvTranspose with group 1) followed by BatchNormalization with constant parameters becomes one Conv
// (ConvTranspose) with rescaled weights and bias.
Status fold_batchnorm_into_conv(ir::Model& m, bool* changed);
// Conv (or ConvTranspose with group 1) followed by Mul or Add with a float constant that is a scalar or has one value per output channel (the
// "learnable affine" blocks of PP-LCNet) becomes one Conv with rescaled weights / shifted bias; repeated for chains.
Status fold_affine_into_conv(ir::Model& m, bool* changed);
// ConvTranspose with kernel == stride, no padding and group 1 (non-overlapping upsampling) becomes a 1x1 Conv to
// O*k*k channels followed by DepthToSpace (CRD): a plain GEMM instead of oneDNN's slow deconvolution for these shapes.
Status deconv_to_conv_depth_to_space(ir::Model& m, bool* changed);
// Removes Identity nodes and Dropout nodes whose mask is unused (inference semantics).
Status remove_identities(ir::Model& m, bool* changed);

// Mul(x, HardSigmoid(x)) with alpha = 1/6, beta = 0.5 becomes HardSwish(x) (the opset-14 op; Kaiwu runs it at any
// opset, so this is a CPU pass, not a standard one).
// Also rewrites the decomposed forms Div(Clip(Add(x,3),0,6),6) -> HardSigmoid and Div(Mul(x, Clip(Add(x,3),0,6)),6)
// -> HardSwish.
Status fuse_hardswish(ir::Model& m, bool* changed);
// Conv (2-D, constant float weights) with the elementwise ops after it (Relu, Clip, LeakyRelu, Sigmoid, Tanh,
// HardSwish, HardSigmoid, x*sigmoid(x), and one residual Add of an equally shaped tensor) becomes kaiwu.Conv with
// post-ops.
Status fuse_conv_post_ops(ir::Model& m, bool* changed);
// kaiwu.Conv and 2-D pooling switch to NHWC activations, with Transposes around them (later cancelled).
Status convert_to_nhwc(ir::Model& m, bool* changed);
// kaiwu.QLinearConv with an int16 output whose only reader is a kaiwu.QLut with a clamp table (the Relu / Clip
// after an int16 convolution, whose symmetric output range does not saturate at the bounds) becomes the
// convolution with attributes y_min / y_max: its requantization saturates there, one table pass less. (Other
// int16 tables stay separate: looked up inside the direct convolution kernels they measured no faster, as the
// AVX-512 gathers, not the extra pass over memory, bound them.)
Status fuse_quantized_clamp(ir::Model& m, bool* changed);
// Pushes Transposes through layout-agnostic ops (elementwise, Concat), merges consecutive ones and removes those
// that cancel; transposes that only move size-1 dims become Reshapes.
Status optimize_transposes(ir::Model& m, bool* changed);

// Raises the default-domain opset to `target` (<= 17), rewriting the ops whose signature changed on the way
// (Slice, Pad, Clip, Squeeze, Unsqueeze, Split, ReduceSum, Upsample -> Resize). Refuses Softmax-like ops whose
// pre-13 meaning has no opset-13 equivalent. Used before QDQ insertion for old models (PP-OCR's are opset 9).
// `input_shapes` (by input name) fix symbolic input dims for the shape inference Softmax needs.
Status upgrade_opset(ir::Model& m, int64_t target, bool* changed, const std::map<std::string, Shape>& input_shapes = {});

struct CpuOptions {
  bool fuse = true;  // fuse_conv_post_ops
  bool nhwc = true;  // convert_to_nhwc + optimize_transposes
};
// The runtime's pipeline: standard passes, then the CPU passes chosen by `opt`. Verifies the result.
Status optimize_for_cpu(ir::Model& m, const CpuOptions& opt = {});
// The standard (pure ONNX) pipeline for the optimized float stage model.
Status optimize_standard(ir::Model& m);

}  // namespace kaiwu::passes
