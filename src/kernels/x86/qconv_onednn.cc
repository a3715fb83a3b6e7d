#include "kernels/x86/qconv_onednn.h"

#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/x86/onednn_int8.h"
#include "kernels/x86/onednn_util.h"

namespace kaiwu::kernels::x86 {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

tag plain_act(int nsp, bool nhwc) {
  if (nhwc) return nsp == 1 ? tag::nwc : (nsp == 2 ? tag::nhwc : tag::ndhwc);
  return nsp == 1 ? tag::ncw : (nsp == 2 ? tag::nchw : tag::ncdhw);
}
tag plain_wei(int nsp, bool grouped) {
  if (grouped) return nsp == 1 ? tag::goiw : (nsp == 2 ? tag::goihw : tag::goidhw);
  return nsp == 1 ? tag::oiw : (nsp == 2 ? tag::oihw : tag::oidhw);
}

}  // namespace

struct QConvOnednn::Impl {
  QConvOnednnConfig cfg;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward conv;
  dnnl::memory::desc user_src, user_dst;
  bool src_reorder = false, dst_reorder = false;
  dnnl::reorder src_r, dst_r;
  OnednnInt8Weights wei;  // constant weights are packed in the primitive's layout
  std::string impl;
};

QConvOnednn::QConvOnednn() : impl_(new Impl) {}
QConvOnednn::~QConvOnednn() = default;

bool QConvOnednn::types_supported(DType xt, DType wt, DType yt) {
  // Without VNNI oneDNN multiplies u8 x s8 pairs into saturating int16 sums: not exact, so not used.
  return onednn_int8_types_ok(xt, wt, yt);
}

bool QConvOnednn::weights_supported(DType wt, const int32_t* w_zp, int64_t m) {
  const int32_t want = wt == DType::kU8 ? 128 : 0;
  for (int64_t i = 0; i < m; ++i)
    if ((w_zp ? w_zp[i] : 0) != want) return false;
  return true;
}

Status QConvOnednn::create(const QConvOnednnConfig& c, std::unique_ptr<QConvOnednn>* out) {
  if (!types_supported(c.xt, c.wt, c.yt)) return unsupported("oneDNN int8 convolution: types not supported here");
  if (c.nsp < 1 || c.nsp > 3) return unsupported("oneDNN int8 convolution: spatial rank");
  const bool fused = c.yt != DType::kI32;
  if (fused && static_cast<int64_t>(c.multipliers.size()) != c.shape.out_channels)
    return invalid_argument("oneDNN int8 convolution: one multiplier per output channel is needed");
  std::unique_ptr<QConvOnednn> k(new QConvOnednn());
  Impl& im = *k->impl_;
  im.cfg = c;
  const ref::QConvShape& s = c.shape;
  const int off = 3 - c.nsp;
  const bool grouped = s.group > 1;
  dnnl::memory::dims src_d = {s.batch, s.in_channels}, dst_d = {s.batch, s.out_channels}, wei_d;
  dnnl::memory::dims strides, dil, pl, pr;
  if (grouped) wei_d = {s.group, s.out_channels / s.group, s.in_channels / s.group};
  else wei_d = {s.out_channels, s.in_channels};
  for (int i = off; i < 3; ++i) {
    src_d.push_back(s.in[i]);
    dst_d.push_back(s.out[i]);
    wei_d.push_back(s.kernel[i]);
    strides.push_back(s.stride[i]);
    dil.push_back(s.dilation[i] - 1);
    pl.push_back(s.pad_begin[i]);
    pr.push_back(c.pads_end[i]);
  }
  const int64_t w_count = s.out_channels * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
  try {
    dnnl::memory::desc src_md(src_d, onednn_int8_dt(c.xt), tag::any), wei_md(wei_d, dt::s8, tag::any);
    dnnl::memory::desc dst_md(dst_d, onednn_int8_dt(c.yt), tag::any), bias_md;
    if (fused && c.with_bias) bias_md = dnnl::memory::desc({s.out_channels}, dt::s32, tag::x);
    dnnl::primitive_attr attr;
    if (fused) {
      attr.set_output_scales(2, c.multipliers);
      attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    }
    if (!c.x_zp_is_zero) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
                                      wei_md, bias_md, dst_md, strides, dil, pl, pr);
    im.pd = dnnl::convolution_forward::primitive_desc(d, attr, onednn_engine());
    im.impl = im.pd.impl_info_str();
    if (im.impl.rfind("ref", 0) == 0) return unsupported("oneDNN has only a reference implementation: " + im.impl);
    im.conv = dnnl::convolution_forward(im.pd);
    im.user_src = dnnl::memory::desc(src_d, onednn_int8_dt(c.xt), plain_act(c.nsp, c.nhwc));
    im.user_dst = dnnl::memory::desc(dst_d, onednn_int8_dt(c.yt), plain_act(c.nsp, c.nhwc));
    im.src_reorder = im.pd.src_desc() != im.user_src;
    im.dst_reorder = im.pd.dst_desc() != im.user_dst;
    dnnl::engine& eng = onednn_engine();
    if (im.src_reorder) im.src_r = dnnl::reorder(dnnl::reorder::primitive_desc(eng, im.user_src, eng, im.pd.src_desc()));
    if (im.dst_reorder) im.dst_r = dnnl::reorder(dnnl::reorder::primitive_desc(eng, im.pd.dst_desc(), eng, im.user_dst));
    im.wei.init(dnnl::memory::desc(wei_d, dt::s8, plain_wei(c.nsp, grouped)), im.pd.weights_desc(), c.wt == DType::kU8,
                w_count);
  } catch (const dnnl::error& e) {
    return unsupported(std::string("oneDNN int8 convolution: ") + e.what());
  }
  *out = std::move(k);
  return Status::Ok();
}

Status QConvOnednn::pack_weights(const void* w) {
  return impl_->wei.pack(w, "oneDNN int8 convolution, packing weights: ");
}

Status QConvOnednn::run(const void* x, int32_t x_zp, const void* w, const int32_t* bias, int32_t y_zp, void* y) const {
  const Impl& im = *impl_;
  try {
    dnnl::stream& st = onednn_stream();
    dnnl::memory src(im.user_src, onednn_engine(), const_cast<void*>(x));
    dnnl::memory dst(im.user_dst, onednn_engine(), y);
    if (im.src_reorder) {
      dnnl::memory s2(im.pd.src_desc(), onednn_engine(), onednn_int8_scratch(0, im.pd.src_desc().get_size()));
      im.src_r.execute(st, src, s2);
      src = s2;
    }
    dnnl::memory conv_dst = dst;
    if (im.dst_reorder)
      conv_dst = dnnl::memory(im.pd.dst_desc(), onednn_engine(), onednn_int8_scratch(1, im.pd.dst_desc().get_size()));
    bool missing = false;
    dnnl::memory wei = im.wei.for_run(w, 2, st, &missing);
    if (missing) return internal_error("oneDNN int8 convolution: weights were neither packed nor given");
    int32_t xz = x_zp, yz = y_zp;
    dnnl::memory xzm = onednn_s32_scalar(&xz), yzm = onednn_s32_scalar(&yz);
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, conv_dst}};
    const bool fused = im.cfg.yt != DType::kI32;
    if (fused && im.cfg.with_bias) {
      if (!bias) return internal_error("oneDNN int8 convolution: bias missing");
      args[DNNL_ARG_BIAS] = dnnl::memory(im.pd.bias_desc(), onednn_engine(), const_cast<int32_t*>(bias));
    }
    if (fused) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = yzm;
    if (!im.cfg.x_zp_is_zero) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = xzm;
    im.conv.execute(st, args);
    if (im.dst_reorder) im.dst_r.execute(st, conv_dst, dst);
    st.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN int8 convolution: ") + e.what());
  }
  return Status::Ok();
}

const char* QConvOnednn::impl_name() const { return impl_->impl.c_str(); }

}  // namespace kaiwu::kernels::x86
