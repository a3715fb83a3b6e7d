// Shared setup of QuantizeLinear / DequantizeLinear: the [outer, channels, inner] view and the per-run params.
#pragma once
#include <string>
#include <vector>

#include "kernels/ref/quantize.h"
#include "ops/op_def.h"
#include "ops/quant_common.h"

namespace kaiwu::ops {

// Channels and inner size of x for its scale and optional zero point (null when absent). Returns "" or the reason.
inline std::string qdq_desc_layout(const ir::Node& node, const TensorDesc& x, const TensorDesc& scale,
                                   const TensorDesc* zp, int64_t* channels, int64_t* inner) {
  *channels = *inner = 1;
  return qdq_layout(node, x.shape, scale.shape, zp ? &zp->shape : nullptr, channels, inner);
}

// The scales and zero points of one run (inputs 1 and optional 2) and the kernel params pointing at them.
struct QdqRunParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  kernels::ref::QuantizeLinearParams p;

  QdqRunParams(const std::vector<const Tensor*>& in, int64_t channels, int64_t inner)
      : scales(read_scales(*in[1])), zero_points(read_zero_points(in.size() > 2 ? in[2] : nullptr, scales.size())) {
    p.channels = channels;
    p.inner = inner;
    p.scales = scales.data();
    p.zero_points = zero_points.data();
  }
  QdqRunParams(const QdqRunParams&) = delete;
  QdqRunParams& operator=(const QdqRunParams&) = delete;
};

}  // namespace kaiwu::ops
