// Convolution geometry from a node's attributes and concrete shapes, shared by Conv and kaiwu.Conv.
#pragma once
#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kernels/ref/conv.h"

namespace kaiwu::ops {

// ConvParams for X [N, C, d...] (logical, channels first) and W [M, C/group, k...] from the node's kernel_shape,
// strides, pads, dilations, auto_pad and group. Errors name the node.
Status conv_geometry(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, kernels::ConvParams* p);

// Activation layout of a kaiwu-domain node (`layout` attribute: "NCHW", the default, or "NHWC").
kernels::ActLayout node_layout(const ir::Node& node);
// [N, H, W, C] <-> [N, C, H, W] for a rank >= 3 shape.
Shape nhwc_to_nchw(const Shape& s);
Shape nchw_to_nhwc(const Shape& s);

}  // namespace kaiwu::ops
