#include "ops/conv_geometry.h"

#include "ops/conv_attrs.h"

namespace kaiwu::ops {

Status conv_geometry(const ir::Node& node, const Shape& x, const Shape& w, bool has_bias, kernels::ConvParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 3 || x.size() > 5) return fail("X must have rank 3..5, got " + shape_to_string(x));
  if (w.size() != x.size()) return fail("W " + shape_to_string(w) + " must have the rank of X " + shape_to_string(x));
  const size_t nsp = x.size() - 2;
  const int64_t group = node.attr_int("group", 1);
  if (group <= 0) return fail("group must be positive");
  std::vector<int64_t> kernel = node.attr_ints("kernel_shape", std::vector<int64_t>(w.begin() + 2, w.end()));
  if (kernel.empty()) kernel.assign(w.begin() + 2, w.end());
  for (size_t i = 0; i < nsp && i < kernel.size(); ++i)
    if (kernel[i] != w[i + 2])
      return fail("kernel_shape " + ints_to_string(kernel) + " does not match W " + shape_to_string(w));
  WindowAttrs wa;
  std::string why = read_window_attrs(node, nsp, kernel, &wa);
  if (!why.empty()) return fail(why);
  if (x[1] != w[1] * group)
    return fail("X has " + std::to_string(x[1]) + " channels but W " + shape_to_string(w) + " with group " +
                std::to_string(group) + " expects " + std::to_string(w[1] * group));
  if (w[0] % group) return fail("output channels " + std::to_string(w[0]) + " are not divisible by group");
  std::vector<int64_t> in(x.begin() + 2, x.end()), out;
  why = window_output_dims(&wa, in, false, &out);
  if (!why.empty()) return fail(why);
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[0];
  p->groups = group;
  p->in_dims = in;
  p->out_dims = out;
  p->kernel = wa.kernel;
  p->strides = wa.strides;
  p->dilations = wa.dilations;
  p->pads_begin = wa.pads_begin;
  p->pads_end = wa.pads_end;
  p->has_bias = has_bias;
  p->set_layout(node_layout(node));
  return Status::Ok();
}

kernels::ActLayout node_layout(const ir::Node& node) {
  return node.attr_string("layout", "NCHW") == "NHWC" ? kernels::ActLayout::kNHWC : kernels::ActLayout::kNCHW;
}

Shape nhwc_to_nchw(const Shape& s) {
  Shape r = s;
  if (s.size() < 3) return r;
  r[1] = s.back();
  for (size_t i = 2; i < s.size(); ++i) r[i] = s[i - 1];
  return r;
}

Shape nchw_to_nhwc(const Shape& s) {
  Shape r = s;
  if (s.size() < 3) return r;
  r.back() = s[1];
  for (size_t i = 1; i + 1 < s.size(); ++i) r[i] = s[i + 1];
  return r;
}

}  // namespace kaiwu::ops
