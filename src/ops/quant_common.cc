#include "ops/quant_common.h"

#include <algorithm>

#include "ops/shape_util.h"

namespace kaiwu::ops {

namespace {
std::string ints_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
}  // namespace

std::vector<float> read_scales(const Tensor& t) {
  std::vector<float> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = static_cast<float>(t.get_f64(i));
  return v;
}

std::vector<int32_t> read_zero_points(const Tensor* t, size_t n) {
  if (!t) return std::vector<int32_t>(n, 0);
  std::vector<int32_t> v(t->numel());
  for (int64_t i = 0; i < t->numel(); ++i) v[i] = static_cast<int32_t>(t->get_i64(i));
  return v;
}

bool all_equal(const std::vector<int32_t>& v) {
  for (int32_t x : v)
    if (x != v[0]) return false;
  return true;
}

std::string qdq_layout(const ir::Node& n, const Shape& x, const Shape& scale, const Shape* zp, int64_t* channels,
                       int64_t* inner) {
  if (n.attr_int("block_size", 0) != 0) return "blocked quantization (block_size) is not supported";
  if (zp && shape_numel(*zp) != shape_numel(scale))
    return "zero point shape " + shape_to_string(*zp) + " differs from the scale shape " + shape_to_string(scale);
  *channels = 1;
  *inner = shape_numel(x);
  if (shape_numel(scale) == 1) return "";
  if (scale.size() != 1) return "scale must be a scalar or a 1-D tensor, got " + shape_to_string(scale);
  int64_t axis = 0;
  if (!normalize_axis(n.attr_int("axis", 1), static_cast<int64_t>(x.size()), &axis))
    return "axis " + std::to_string(n.attr_int("axis", 1)) + " is out of range for rank " + std::to_string(x.size());
  if (scale[0] != x[axis])
    return "scale has " + std::to_string(scale[0]) + " elements, input dimension " + std::to_string(axis) + " has " +
           std::to_string(x[axis]);
  *channels = x[axis];
  *inner = 1;
  for (size_t i = axis + 1; i < x.size(); ++i) *inner *= x[i];
  return "";
}

std::string qconv_geometry(const ir::Node& n, const Shape& x, const Shape& w, QConvGeometry* g) {
  if (x.size() < 3 || x.size() > 5) return "input rank " + std::to_string(x.size()) + " is not 3, 4 or 5";
  if (w.size() != x.size()) return "weight rank " + std::to_string(w.size()) + " differs from the input rank";
  const size_t nsp = x.size() - 2;
  const int64_t group = n.attr_int("group", 1);
  if (group <= 0) return "group must be positive";
  const int64_t c = x[1], m = w[0];
  if (m <= 0 || m % group != 0) return "output channels " + std::to_string(m) + " are not a multiple of group";
  if (w[1] * group != c)
    return "weight shape " + shape_to_string(w) + " does not match " + std::to_string(c) + " input channels and group " +
           std::to_string(group);
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (n.has_attr("kernel_shape")) {
    std::vector<int64_t> ks = n.attr_ints("kernel_shape");
    if (ks != kernel) return "kernel_shape " + ints_text(ks) + " does not match the weight shape " + shape_to_string(w);
  }
  std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(nsp, 1));
  std::vector<int64_t> dilations = n.attr_ints("dilations", std::vector<int64_t>(nsp, 1));
  std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * nsp, 0));
  if (strides.empty()) strides.assign(nsp, 1);
  if (dilations.empty()) dilations.assign(nsp, 1);
  if (pads.empty()) pads.assign(2 * nsp, 0);
  if (strides.size() != nsp || dilations.size() != nsp || pads.size() != 2 * nsp)
    return "strides/dilations/pads do not match the spatial rank " + std::to_string(nsp);
  std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
    return "unknown auto_pad '" + auto_pad + "'";
  g->nsp = static_cast<int>(nsp);
  g->pads_begin.assign(nsp, 0);
  g->pads_end.assign(nsp, 0);
  g->out_shape = {x[0], m};
  g->out_plane = 1;
  kernels::ref::QConvShape& s = g->shape;
  s = kernels::ref::QConvShape();
  s.batch = x[0];
  s.in_channels = c;
  s.out_channels = m;
  s.group = group;
  const size_t off = 3 - nsp;  // right-align the spatial dims into 3
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = x[2 + i], k = kernel[i], st = strides[i], d = dilations[i];
    if (k <= 0 || st <= 0 || d <= 0) return "kernel, strides and dilations must be positive";
    if (pads[i] < 0 || pads[nsp + i] < 0) return "negative pads " + ints_text(pads) + " are not supported";
    const int64_t ek = (k - 1) * d + 1;
    int64_t pb = pads[i], pe = pads[nsp + i], o = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      o = (in + st - 1) / st;
      int64_t total = std::max<int64_t>(0, (o - 1) * st + ek - in);
      pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (auto_pad == "VALID") pb = pe = 0;
      int64_t span = in + pb + pe - ek;
      if (span < 0) return "the kernel is larger than the padded input on spatial axis " + std::to_string(i);
      o = span / st + 1;
    }
    g->pads_begin[i] = pb;
    g->pads_end[i] = pe;
    g->out_shape.push_back(o);
    g->out_plane *= o;
    s.in[off + i] = in;
    s.kernel[off + i] = k;
    s.out[off + i] = o;
    s.stride[off + i] = st;
    s.dilation[off + i] = d;
    s.pad_begin[off + i] = pb;
  }
  return "";
}

std::string qmatmul_geometry(const Shape& a, const Shape& b, QMatMulGeometry* g) {
  if (a.empty() || b.empty()) return "matmul inputs must have rank >= 1";
  Shape a2 = a, b2 = b;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  g->m = a2[a2.size() - 2];
  g->k = a2.back();
  g->n = b2.back();
  if (b2[b2.size() - 2] != g->k)
    return "inner dimensions differ: " + shape_to_string(a) + " x " + shape_to_string(b);
  g->a_batch.assign(a2.begin(), a2.end() - 2);
  g->b_batch.assign(b2.begin(), b2.end() - 2);
  Shape batch;
  if (!broadcast_shapes(g->a_batch, g->b_batch, &batch))
    return "batch dimensions of " + shape_to_string(a) + " and " + shape_to_string(b) + " do not broadcast";
  g->a_batches = shape_numel(g->a_batch);
  g->b_batches = shape_numel(g->b_batch);
  const int64_t nb = shape_numel(batch);
  const std::vector<int64_t> sa = broadcast_strides(g->a_batch, batch), sb = broadcast_strides(g->b_batch, batch);
  g->a_index.assign(nb, 0);
  g->b_index.assign(nb, 0);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      ia += idx * sa[d];
      ib += idx * sb[d];
    }
    g->a_index[i] = ia;
    g->b_index[i] = ib;
  }
  g->out_shape = batch;
  if (a.size() > 1) g->out_shape.push_back(g->m);
  if (b.size() > 1) g->out_shape.push_back(g->n);
  return "";
}

std::string matmul_param_index(const Shape& p, const QMatMulGeometry& g, bool for_a, std::vector<int64_t>* index) {
  const Shape& batch = for_a ? g.a_batch : g.b_batch;
  const int64_t len = for_a ? g.m : g.n;
  const int64_t batches = for_a ? g.a_batches : g.b_batches;
  index->assign(batches * len, 0);
  const int64_t numel = shape_numel(p);
  if (numel == 1) return "";
  // The parameter's shape over [batch..., len].
  Shape vec;
  if (p.size() == 1) {
    vec = p;
  } else {
    if (p.size() < 2) return "bad shape";
    const int64_t unit = for_a ? p.back() : p[p.size() - 2];
    if (unit != 1) return "must have a 1 in the " + std::string(for_a ? "last" : "second-last") + " dimension";
    vec = p;
    vec.erase(vec.end() - (for_a ? 1 : 2));
  }
  if (vec.back() != len)
    return "has " + std::to_string(vec.back()) + " entries per " + (for_a ? "row" : "column") + " set, expected " +
           std::to_string(len);
  Shape full = batch;
  full.push_back(len);
  if (vec.size() > full.size()) return "has more dimensions than the matrix";
  for (size_t i = 0; i < vec.size(); ++i) {
    int64_t d = vec[vec.size() - 1 - i], f = full[full.size() - 1 - i];
    if (d != 1 && d != f) return "does not broadcast to the batch dimensions";
  }
  const std::vector<int64_t> st = broadcast_strides(vec, full);
  for (int64_t i = 0; i < batches * len; ++i) {
    int64_t rem = i, idx = 0;
    for (int d = static_cast<int>(full.size()) - 1; d >= 0; --d) {
      idx += (rem % full[d]) * st[d];
      rem /= full[d];
    }
    (*index)[i] = idx;
  }
  return "";
}

}  // namespace kaiwu::ops
