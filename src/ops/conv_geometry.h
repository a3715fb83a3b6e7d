// Convolution geometry from a node's attributes and concrete shapes, shared by Conv, ConvTranspose, kaiwu.Conv and
// the pools, and the f32 kernel wrapper shared by Conv and ConvTranspose.
#pragma once
#include <memory>

#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kernels/ref/conv.h"
#include "ops/conv_attrs.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// Copies the resolved window (kernel, strides, dilations, pads) into conv or pool params.
template <typename P>
void set_window(const WindowAttrs& wa, P* p) {
  p->kernel = wa.kernel;
  p->strides = wa.strides;
  p->dilations = wa.dilations;
  p->pads_begin = wa.pads_begin;
  p->pads_end = wa.pads_end;
}

// Checks the ranks of X [N, C, d...] and W [., ., k...] (3..5), reads group and kernel_shape (checked against W)
// and the window attributes (strides, pads, dilations, auto_pad; pads not yet resolved). Errors name the node.
Status read_conv_window(const ir::Node& node, const Shape& x, const Shape& w, int64_t* group, WindowAttrs* wa);

// ConvParams for X [N, C, d...] (logical, channels first) and W [M, C/group, k...] from the node's kernel_shape,
// strides, pads, dilations, auto_pad and group. Errors name the node.
Status conv_geometry(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, kernels::ConvParams* p);

// Activation layout of a kaiwu-domain node (`layout` attribute: "NCHW", the default, or "NHWC").
kernels::ActLayout node_layout(const ir::Node& node);
// [N, H, W, C] <-> [N, C, H, W] for a rank >= 3 shape.
Shape nhwc_to_nchw(const Shape& s);
Shape nchw_to_nhwc(const Shape& s);

// Geometry of a (transposed) f32 convolution node from its X and W shapes.
using ConvGeometryFn = Status (*)(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias,
                                  kernels::ConvParams* p);

// Shape inference of Conv / ConvTranspose: float X and W, optional bias B of out_channels elements, Y [N, M, out...].
Status infer_conv_f32(InferContext& ctx, ConvGeometryFn geometry);

// The f32 Conv (transposed = false) / ConvTranspose kernel (NCHW): oneDNN unless reference_only or unavailable,
// else the scalar reference with its output planes split over threads.
Status create_conv_f32(const KernelInit& init, ConvGeometryFn geometry, bool transposed, std::unique_ptr<Kernel>* out);

}  // namespace kaiwu::ops
