#include "kernels/ref/conv.h"

#include <sstream>

namespace kaiwu::kernels {

namespace {
int64_t prod(const std::vector<int64_t>& v) {
  int64_t r = 1;
  for (int64_t x : v) r *= x;
  return r;
}
}  // namespace

int64_t ConvParams::src_size() const { return batch * in_channels * prod(in_dims); }
int64_t ConvParams::dst_size() const { return batch * out_channels * prod(out_dims); }
int64_t ConvParams::weights_size(bool transposed) const {
  return (transposed ? in_channels * (out_channels / groups) : out_channels * (in_channels / groups)) * prod(kernel);
}
bool ConvParams::has_sum() const {
  for (const PostOp& op : post_ops)
    if (op.kind == PostOpKind::kSum) return true;
  return false;
}

std::string ConvParams::describe() const {
  std::ostringstream os;
  auto dims = [&](const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "x" : "") + std::to_string(v[i]);
    return s;
  };
  os << batch << "x" << in_channels << "x" << dims(in_dims) << " -> " << out_channels << "x" << dims(out_dims) << " k"
     << dims(kernel) << " s" << dims(strides) << " d" << dims(dilations) << " p" << dims(pads_begin) << "/"
     << dims(pads_end) << " g" << groups << (src_layout == ActLayout::kNHWC ? " nhwc" : " nchw")
     << (dst_layout == src_layout ? "" : dst_layout == ActLayout::kNHWC ? "->nhwc" : "->nchw");
  return os.str();
}

namespace ref {

std::string check_conv_params(const ConvParams& p, bool transposed) {
  size_t r = p.in_dims.size();
  if (r < 1 || r > 3) return "only 1-D, 2-D and 3-D convolutions are supported";
  if (p.out_dims.size() != r || p.kernel.size() != r || p.strides.size() != r || p.dilations.size() != r ||
      p.pads_begin.size() != r || p.pads_end.size() != r)
    return "inconsistent number of spatial dimensions";
  if (p.batch < 0 || p.in_channels <= 0 || p.out_channels <= 0 || p.groups <= 0) return "bad batch/channels/groups";
  if (p.in_channels % p.groups || p.out_channels % p.groups) return "channels are not divisible by group";
  for (size_t i = 0; i < r; ++i) {
    if (p.kernel[i] <= 0 || p.strides[i] <= 0 || p.dilations[i] <= 0)
      return "kernel, strides and dilations must be > 0";
    if (p.in_dims[i] < 0 || p.out_dims[i] < 0) return "negative spatial size";
    if (!transposed && (p.pads_begin[i] < 0 || p.pads_end[i] < 0)) return "negative pads";
  }
  return "";
}

Spatial3 to_spatial3(const ConvParams& p) {
  Spatial3 g;
  int off = 3 - p.spatial_rank();
  for (int i = 0; i < 3; ++i) {
    int j = i - off;
    bool real = j >= 0;
    g.in[i] = real ? p.in_dims[j] : 1;
    g.out[i] = real ? p.out_dims[j] : 1;
    g.k[i] = real ? p.kernel[j] : 1;
    g.s[i] = real ? p.strides[j] : 1;
    g.d[i] = real ? p.dilations[j] : 1;
    g.pb[i] = real ? p.pads_begin[j] : 0;
  }
  return g;
}

void conv_f32(const ConvParams& p, const float* src, const float* weights, const float* bias, float* dst,
              int64_t unit_begin, int64_t unit_end) {
  const Spatial3 g = to_spatial3(p);
  const int64_t icg = p.in_channels / p.groups, ocg = p.out_channels / p.groups;
  if (unit_end < 0) unit_end = p.batch * p.out_channels;
  for (int64_t unit = unit_begin; unit < unit_end; ++unit) {
    const int64_t n = unit / p.out_channels, oc = unit % p.out_channels;
    const int64_t grp = oc / ocg;
    for (int64_t oz = 0; oz < g.out[0]; ++oz)
      for (int64_t oy = 0; oy < g.out[1]; ++oy)
        for (int64_t ox = 0; ox < g.out[2]; ++ox) {
          double acc = p.has_bias && bias ? bias[oc] : 0.0;
          for (int64_t ic = 0; ic < icg; ++ic)
            for (int64_t kz = 0; kz < g.k[0]; ++kz) {
              int64_t iz = oz * g.s[0] - g.pb[0] + kz * g.d[0];
              if (iz < 0 || iz >= g.in[0]) continue;
              for (int64_t ky = 0; ky < g.k[1]; ++ky) {
                int64_t iy = oy * g.s[1] - g.pb[1] + ky * g.d[1];
                if (iy < 0 || iy >= g.in[1]) continue;
                for (int64_t kx = 0; kx < g.k[2]; ++kx) {
                  int64_t ix = ox * g.s[2] - g.pb[2] + kx * g.d[2];
                  if (ix < 0 || ix >= g.in[2]) continue;
                  float x = src[act_offset(p.src_layout, n, grp * icg + ic, iz, iy, ix, p.in_channels, g.in)];
                  float w = weights[(((oc * icg + ic) * g.k[0] + kz) * g.k[1] + ky) * g.k[2] + kx];
                  acc += static_cast<double>(x) * w;
                }
              }
            }
          float* y = dst + act_offset(p.dst_layout, n, oc, oz, oy, ox, p.out_channels, g.out);
          *y = apply_post_ops(p.post_ops, static_cast<float>(acc), *y);
        }
  }
}

}  // namespace ref
}  // namespace kaiwu::kernels
