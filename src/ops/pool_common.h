// Shared inference and parameter setup for MaxPool / AveragePool and the global pools.
#pragma once
#include "kernels/ref/pool.h"
#include "ops/conv_attrs.h"
#include "ops/conv_geometry.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// Pool params (NCHW) from the node and X's shape [N, C, d...]: kernel_shape, strides, pads, auto_pad, dilations,
// ceil_mode, count_include_pad.
inline Status pool_params(const ir::Node& node, const Shape& x, kernels::PoolParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 3) return fail("X must have rank >= 3, got " + shape_to_string(x));
  const size_t nsp = x.size() - 2;
  if (!node.has_attr("kernel_shape")) return fail("kernel_shape is required");
  WindowAttrs w;
  std::string why = read_window_attrs(node, nsp, node.attr_ints("kernel_shape"), &w);
  if (!why.empty()) return fail(why);
  std::vector<int64_t> in(x.begin() + 2, x.end()), out;
  why = window_output_dims(&w, in, node.attr_int("ceil_mode", 0) != 0, &out);
  if (!why.empty()) return fail(why);
  if (nsp > 3) return fail("pooling over more than 3 spatial dims is not supported");
  p->batch = x[0];
  p->channels = x[1];
  p->in_dims = in;
  p->out_dims = out;
  set_window(w, p);
  p->count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  p->layout = kernels::ActLayout::kNCHW;
  return Status::Ok();
}

// Output shape [N, C, out...] of a pool.
inline Shape pool_output_shape(const kernels::PoolParams& p) {
  Shape y{p.batch, p.channels};
  y.insert(y.end(), p.out_dims.begin(), p.out_dims.end());
  return y;
}

// Global pools: X [N, C, d...] -> [N, C, 1, ...].
inline Status infer_global_pool(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const TensorDesc& x = ctx.input(0);
  if (x.shape.size() < 2) return ctx.fail("X must have rank >= 2, got " + shape_to_string(x.shape));
  Shape y = x.shape;
  for (size_t i = 2; i < y.size(); ++i) y[i] = 1;
  ctx.outputs[0] = {x.dtype, y};
  return Status::Ok();
}

// Batch, channels and spatial size of a global pool's input.
inline void global_pool_dims(const Shape& x, int64_t* n, int64_t* c, int64_t* spatial) {
  *n = x[0];
  *c = x[1];
  *spatial = 1;
  for (size_t i = 2; i < x.size(); ++i) *spatial *= x[i];
}

}  // namespace kaiwu::ops
