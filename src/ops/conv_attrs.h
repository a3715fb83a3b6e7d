// Sliding-window attributes shared by Conv, ConvTranspose and the pooling ops: kernel, strides, dilations, pads and
// auto_pad, parsed and checked once, and the output size they give.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kaiwu::ops {

struct WindowAttrs {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;
  std::string auto_pad = "NOTSET";  // NOTSET, SAME_UPPER, SAME_LOWER or VALID
};

// Reads strides/dilations/pads/auto_pad of `n` for `nsp` spatial dims (defaults 1/1/0/NOTSET) with the given kernel.
// Returns "" when valid, else the reason.
std::string read_window_attrs(const ir::Node& n, size_t nsp, const std::vector<int64_t>& kernel, WindowAttrs* w);

// Output spatial sizes of a convolution or pooling over `in`; resolves auto_pad into pads_begin/pads_end.
// ceil_mode rounds up (pooling), dropping a last window that would start in the end padding. Returns "" or a reason.
std::string window_output_dims(WindowAttrs* w, const std::vector<int64_t>& in, bool ceil_mode,
                               std::vector<int64_t>* out);

// "[1, 2, 3]" for messages.
std::string ints_to_string(const std::vector<int64_t>& v);

}  // namespace kaiwu::ops
