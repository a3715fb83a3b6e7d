#include "kernels/x86/qconv_onednn.h"

#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/cpu_info.h"

namespace kaiwu::kernels::x86 {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

// Per-thread scratch buffers (slot 0: source, 1: destination, 2: weights), 64-byte aligned, grown on demand.
void* scratch(int slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[3];
  Buf& b = bufs[slot];
  if (b.n < bytes) {
    std::free(b.p);
    b.n = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.n);
  }
  return b.p;
}

dt to_dt(DType t) {
  switch (t) {
    case DType::kU8: return dt::u8;
    case DType::kI8: return dt::s8;
    default: return dt::s32;
  }
}

tag plain_act(int nsp) { return nsp == 1 ? tag::ncw : (nsp == 2 ? tag::nchw : tag::ncdhw); }
tag plain_wei(int nsp, bool grouped) {
  if (grouped) return nsp == 1 ? tag::goiw : (nsp == 2 ? tag::goihw : tag::goidhw);
  return nsp == 1 ? tag::oiw : (nsp == 2 ? tag::oihw : tag::oidhw);
}

// u8 weights with zero point 128 become s8 weights with zero point 0.
void shift_u8_weights(const uint8_t* w, int8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(w[i] ^ 0x80u);
}

}  // namespace

struct QConvOnednn::Impl {
  QConvOnednnConfig cfg;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward conv;
  dnnl::memory::desc user_src, user_dst, user_wei;
  bool src_reorder = false, dst_reorder = false, wei_reorder = false;
  dnnl::reorder src_r, dst_r, wei_r;
  dnnl::memory packed;  // constant weights in the primitive's layout
  bool packed_ok = false;
  int64_t w_count = 0;
  std::string impl;
};

QConvOnednn::QConvOnednn() : impl_(new Impl) {}
QConvOnednn::~QConvOnednn() = default;

bool QConvOnednn::types_supported(DType xt, DType wt, DType yt) {
  const CpuInfo& c = cpu_info();
  // Without VNNI oneDNN multiplies u8 x s8 pairs into saturating int16 sums: not exact, so not used.
  if (!(c.avx512vnni && c.avx512bw && c.avx512vl)) return false;
  bool x_ok = xt == DType::kU8 || xt == DType::kI8, w_ok = wt == DType::kU8 || wt == DType::kI8;
  return x_ok && w_ok && (yt == DType::kU8 || yt == DType::kI8 || yt == DType::kI32);
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
  im.w_count = s.out_channels * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
  try {
    dnnl::memory::desc src_md(src_d, to_dt(c.xt), tag::any), wei_md(wei_d, dt::s8, tag::any);
    dnnl::memory::desc dst_md(dst_d, to_dt(c.yt), tag::any), bias_md;
    if (fused && c.with_bias) bias_md = dnnl::memory::desc({s.out_channels}, dt::s32, tag::x);
    dnnl::primitive_attr attr;
    if (fused) {
      attr.set_output_scales(2, c.multipliers);
      attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    }
    if (!c.x_zp_is_zero) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
                                      wei_md, bias_md, dst_md, strides, dil, pl, pr);
    im.pd = dnnl::convolution_forward::primitive_desc(d, attr, engine());
    im.impl = im.pd.impl_info_str();
    if (im.impl.rfind("ref", 0) == 0) return unsupported("oneDNN has only a reference implementation: " + im.impl);
    im.conv = dnnl::convolution_forward(im.pd);
    im.user_src = dnnl::memory::desc(src_d, to_dt(c.xt), plain_act(c.nsp));
    im.user_dst = dnnl::memory::desc(dst_d, to_dt(c.yt), plain_act(c.nsp));
    im.user_wei = dnnl::memory::desc(wei_d, dt::s8, plain_wei(c.nsp, grouped));
    im.src_reorder = im.pd.src_desc() != im.user_src;
    im.dst_reorder = im.pd.dst_desc() != im.user_dst;
    im.wei_reorder = im.pd.weights_desc() != im.user_wei;
    if (im.src_reorder) im.src_r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), im.user_src, engine(), im.pd.src_desc()));
    if (im.dst_reorder) im.dst_r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), im.pd.dst_desc(), engine(), im.user_dst));
    if (im.wei_reorder) im.wei_r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), im.user_wei, engine(), im.pd.weights_desc()));
  } catch (const dnnl::error& e) {
    return unsupported(std::string("oneDNN int8 convolution: ") + e.what());
  }
  *out = std::move(k);
  return Status::Ok();
}

Status QConvOnednn::pack_weights(const void* w) {
  Impl& im = *impl_;
  try {
    dnnl::stream& st = stream();
    std::vector<int8_t> tmp;
    const int8_t* ws = static_cast<const int8_t*>(w);
    if (im.cfg.wt == DType::kU8) {
      tmp.resize(im.w_count);
      shift_u8_weights(static_cast<const uint8_t*>(w), tmp.data(), im.w_count);
      ws = tmp.data();
    }
    im.packed = dnnl::memory(im.pd.weights_desc(), engine());
    dnnl::memory user(im.user_wei, engine(), const_cast<int8_t*>(ws));
    if (im.wei_reorder) im.wei_r.execute(st, user, im.packed);
    else std::memcpy(im.packed.get_data_handle(), ws, im.w_count);
    st.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN int8 convolution, packing weights: ") + e.what());
  }
  im.packed_ok = true;
  return Status::Ok();
}

Status QConvOnednn::run(const void* x, int32_t x_zp, const void* w, const int32_t* bias, int32_t y_zp, void* y) const {
  const Impl& im = *impl_;
  try {
    dnnl::stream& st = stream();
    dnnl::memory src(im.user_src, engine(), const_cast<void*>(x));
    dnnl::memory dst(im.user_dst, engine(), y);
    if (im.src_reorder) {
      dnnl::memory s2(im.pd.src_desc(), engine(), scratch(0, im.pd.src_desc().get_size()));
      im.src_r.execute(st, src, s2);
      src = s2;
    }
    dnnl::memory conv_dst = dst;
    if (im.dst_reorder) conv_dst = dnnl::memory(im.pd.dst_desc(), engine(), scratch(1, im.pd.dst_desc().get_size()));
    dnnl::memory wei;
    if (im.packed_ok && !w) {
      wei = im.packed;
    } else {
      if (!w) return internal_error("oneDNN int8 convolution: weights were neither packed nor given");
      // Scratch: the u8 -> s8 shifted weights (if needed), then the weights in the primitive's layout.
      const size_t shifted = im.cfg.wt == DType::kU8 ? (im.w_count + 63) / 64 * 64 : 0;
      uint8_t* base = static_cast<uint8_t*>(scratch(2, shifted + im.pd.weights_desc().get_size()));
      const int8_t* ws = static_cast<const int8_t*>(w);
      if (shifted) {
        shift_u8_weights(static_cast<const uint8_t*>(w), reinterpret_cast<int8_t*>(base), im.w_count);
        ws = reinterpret_cast<const int8_t*>(base);
      }
      dnnl::memory user(im.user_wei, engine(), const_cast<int8_t*>(ws));
      if (im.wei_reorder) {
        wei = dnnl::memory(im.pd.weights_desc(), engine(), base + shifted);
        im.wei_r.execute(st, user, wei);
      } else {
        wei = user;
      }
    }
    int32_t xz = x_zp, yz = y_zp;
    dnnl::memory xzm({{1}, dt::s32, tag::x}, engine(), &xz), yzm({{1}, dt::s32, tag::x}, engine(), &yz);
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, conv_dst}};
    const bool fused = im.cfg.yt != DType::kI32;
    if (fused && im.cfg.with_bias) {
      if (!bias) return internal_error("oneDNN int8 convolution: bias missing");
      args[DNNL_ARG_BIAS] = dnnl::memory(im.pd.bias_desc(), engine(), const_cast<int32_t*>(bias));
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
