#include "ops/conv_attrs.h"

#include <algorithm>

namespace kaiwu::ops {

std::string ints_to_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string read_window_attrs(const ir::Node& n, size_t nsp, const std::vector<int64_t>& kernel, WindowAttrs* w) {
  if (kernel.size() != nsp) return "kernel_shape " + ints_to_string(kernel) + " does not match the input's rank";
  for (int64_t k : kernel)
    if (k <= 0) return "kernel_shape " + ints_to_string(kernel) + " must be positive";
  w->kernel = kernel;
  w->strides = n.attr_ints("strides", std::vector<int64_t>(nsp, 1));
  w->dilations = n.attr_ints("dilations", std::vector<int64_t>(nsp, 1));
  if (w->strides.empty()) w->strides.assign(nsp, 1);
  if (w->dilations.empty()) w->dilations.assign(nsp, 1);
  if (w->strides.size() != nsp) return "strides " + ints_to_string(w->strides) + " do not match the spatial rank";
  if (w->dilations.size() != nsp) return "dilations " + ints_to_string(w->dilations) + " do not match the spatial rank";
  for (size_t i = 0; i < nsp; ++i)
    if (w->strides[i] <= 0 || w->dilations[i] <= 0) return "strides and dilations must be positive";
  std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * nsp, 0));
  if (pads.empty()) pads.assign(2 * nsp, 0);
  if (pads.size() != 2 * nsp) return "pads " + ints_to_string(pads) + " must have 2 entries per spatial dim";
  for (int64_t p : pads)
    if (p < 0) return "negative pads " + ints_to_string(pads) + " are not supported";
  w->pads_begin.assign(pads.begin(), pads.begin() + nsp);
  w->pads_end.assign(pads.begin() + nsp, pads.end());
  w->auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (w->auto_pad.empty()) w->auto_pad = "NOTSET";
  if (w->auto_pad != "NOTSET" && w->auto_pad != "SAME_UPPER" && w->auto_pad != "SAME_LOWER" && w->auto_pad != "VALID")
    return "unknown auto_pad '" + w->auto_pad + "'";
  return "";
}

std::string window_output_dims(WindowAttrs* w, const std::vector<int64_t>& in, bool ceil_mode,
                               std::vector<int64_t>* out) {
  size_t nsp = in.size();
  out->assign(nsp, 0);
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t s = w->strides[i], ek = (w->kernel[i] - 1) * w->dilations[i] + 1;
    if (w->auto_pad == "SAME_UPPER" || w->auto_pad == "SAME_LOWER") {
      int64_t o = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (o - 1) * s + ek - in[i]);
      int64_t small = total / 2, big = total - small;
      w->pads_begin[i] = w->auto_pad == "SAME_UPPER" ? small : big;
      w->pads_end[i] = w->auto_pad == "SAME_UPPER" ? big : small;
      (*out)[i] = o;
      continue;
    }
    if (w->auto_pad == "VALID") w->pads_begin[i] = w->pads_end[i] = 0;
    int64_t span = in[i] + w->pads_begin[i] + w->pads_end[i] - ek;
    if (span < 0)
      return "the window (extent " + std::to_string(ek) + ") is larger than the padded input (" +
             std::to_string(in[i] + w->pads_begin[i] + w->pads_end[i]) + ") on spatial axis " + std::to_string(i);
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in[i] + w->pads_begin[i]) --o;
    (*out)[i] = o;
  }
  return "";
}

}  // namespace kaiwu::ops
