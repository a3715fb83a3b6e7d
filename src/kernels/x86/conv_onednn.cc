#include "kernels/x86/conv_onednn.h"

#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "kernels/x86/onednn_util.h"

namespace kaiwu::kernels::x86 {

namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Plain NCHW tensors: oneDNN's blocked layout (nChw16c) with reorders around the primitive, measured against
// reading/writing nchw directly (ConvOnednnBench, 2 threads, min ms, blocked vs plain): 3x3 64->64 @56: 1.07 vs
// 1.55; 1x1 256->64 @56: 0.58 vs 0.47; 1x1 64->256 @56: 0.58 vs 0.52; 3x3 512 @7: 0.87 vs 1.52; 1x1 2048->512 @7:
// 0.58 vs 0.66; 7x7/2 stem: 1.15 vs 2.19; depthwise 144 @56: 0.59 vs 1.03. Plain NCHW runs im2col + sgemm
// ("gemm:jit"), which is slower except for large 1x1 layers and is not bit-identical across thread counts;
// the blocked (brgconv) kernels are. NHWC needs no reorder and is fastest (0.98 / 0.45 ms for the first two).
constexpr OnednnActFormat kDefaultNchwFormat = OnednnActFormat::kBlocked;

// ONNX weight layouts as oneDNN tags over oneDNN's logical weight dims ({G,} O, I, spatial...).
tag weights_tag(int spatial, bool grouped, bool transposed) {
  if (!transposed) {
    static const tag plain[] = {tag::oiw, tag::oihw, tag::oidhw};
    static const tag group[] = {tag::goiw, tag::goihw, tag::goidhw};
    return grouped ? group[spatial - 1] : plain[spatial - 1];
  }
  // ONNX ConvTranspose stores [I, O/g, k...]: i before o.
  static const tag plain[] = {tag::bac, tag::bacd, tag::bacde};
  static const tag group[] = {tag::acbd, tag::acbde, tag::acbdef};
  return grouped ? group[spatial - 1] : plain[spatial - 1];
}

size_t round_up(size_t x) { return (x + 63) / 64 * 64; }

std::unique_ptr<dnnl::reorder> make_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  auto& eng = onednn_engine();
  return std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(eng, from, eng, to));
}

}  // namespace

ConvOnednn::~ConvOnednn() { std::free(packed_weights_); }

Status ConvOnednn::create(const ConvParams& p, const float* weights, const float* bias, std::unique_ptr<ConvOnednn>* out,
                          const ConvOnednnOptions& opt) {
  std::string why = ref::check_conv_params(p, opt.transposed);
  if (!why.empty()) return invalid_argument("conv " + p.describe() + ": " + why);
  OnednnActFormat f = opt.act_format;
  if (f == OnednnActFormat::kDefault)
    f = p.src_layout == ActLayout::kNHWC && p.dst_layout == ActLayout::kNHWC ? OnednnActFormat::kPlain
                                                                             : kDefaultNchwFormat;
  std::unique_ptr<ConvOnednn> k(new ConvOnednn());
  Status st = k->init(p, weights, bias, opt, f == OnednnActFormat::kBlocked);
  if (!st.ok() && f == OnednnActFormat::kBlocked && opt.act_format == OnednnActFormat::kDefault) {
    k.reset(new ConvOnednn());
    st = k->init(p, weights, bias, opt, false);
  }
  KW_RETURN_IF_ERROR(st);
  *out = std::move(k);
  return Status::Ok();
}

Status ConvOnednn::init(const ConvParams& p, const float* weights, const float* bias, const ConvOnednnOptions& opt,
                        bool blocked) {
  p_ = p;
  transposed_ = opt.transposed;
  const int sp = p.spatial_rank();
  const bool grouped = p.groups > 1;
  dims src_d{p.batch, p.in_channels}, dst_d{p.batch, p.out_channels}, wei_d, strides, dil, pad_l, pad_r;
  for (int i = 0; i < sp; ++i) {
    src_d.push_back(p.in_dims[i]);
    dst_d.push_back(p.out_dims[i]);
    strides.push_back(p.strides[i]);
    dil.push_back(p.dilations[i] - 1);
    pad_l.push_back(p.pads_begin[i]);
    int64_t ek = (p.kernel[i] - 1) * p.dilations[i] + 1;
    // Right padding implied by the output size (ONNX's pads_end, or output_padding / output_shape for transposed).
    pad_r.push_back(transposed_ ? (p.in_dims[i] - 1) * p.strides[i] + ek - p.pads_begin[i] - p.out_dims[i]
                                : p.pads_end[i]);
  }
  if (grouped) wei_d.push_back(p.groups);
  wei_d.push_back(p.out_channels / p.groups);
  wei_d.push_back(p.in_channels / p.groups);
  for (int i = 0; i < sp; ++i) wei_d.push_back(p.kernel[i]);

  // With `blocked`, channels-first tensors let oneDNN choose (tag::any); channels-last ones are used as they are.
  const tag src_tag = act_tag(sp + 2, p.src_layout), dst_tag = act_tag(sp + 2, p.dst_layout);
  user_src_md_ = dnnl::memory::desc(src_d, dt::f32, src_tag);
  user_dst_md_ = dnnl::memory::desc(dst_d, dt::f32, dst_tag);
  user_wei_md_ = dnnl::memory::desc(wei_d, dt::f32, weights_tag(sp, grouped, transposed_));
  dnnl::memory::desc src_any(src_d, dt::f32, blocked && p.src_layout == ActLayout::kNCHW ? tag::any : src_tag);
  dnnl::memory::desc dst_any(dst_d, dt::f32, blocked && p.dst_layout == ActLayout::kNCHW ? tag::any : dst_tag);
  dnnl::memory::desc wei_any(wei_d, dt::f32, tag::any);
  dnnl::memory::desc bias_md = p.has_bias ? dnnl::memory::desc({p.out_channels}, dt::f32, tag::a)
                                          : dnnl::memory::desc();
  bool ok = true;
  dnnl::primitive_attr attr;
  attr.set_post_ops(onednn_post_ops(p.post_ops, &ok));
  if (!ok) return unsupported("conv " + p.describe() + ": a post-op has no oneDNN equivalent");
  auto& eng = onednn_engine();
  try {
    const auto fwd = dnnl::prop_kind::forward_inference;
    if (!transposed_) {
      dnnl::convolution_forward::desc d(fwd, dnnl::algorithm::convolution_direct, src_any, wei_any, bias_md, dst_any,
                                        strides, dil, pad_l, pad_r);
      dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
      src_md_ = pd.src_desc();
      dst_md_ = pd.dst_desc();
      wei_md_ = pd.weights_desc();
      impl_ = impl_name_of(pd);
      prim_ = dnnl::convolution_forward(pd);
    } else {
      dnnl::deconvolution_forward::desc d(fwd, dnnl::algorithm::deconvolution_direct, src_any, wei_any, bias_md,
                                          dst_any, strides, dil, pad_l, pad_r);
      dnnl::deconvolution_forward::primitive_desc pd(d, attr, eng);
      src_md_ = pd.src_desc();
      dst_md_ = pd.dst_desc();
      wei_md_ = pd.weights_desc();
      impl_ = impl_name_of(pd);
      prim_ = dnnl::deconvolution_forward(pd);
    }
    bias_md_ = bias_md;
    if (src_md_ != user_src_md_) src_reorder_ = make_reorder(user_src_md_, src_md_);
    if (dst_md_ != user_dst_md_) {
      dst_reorder_ = make_reorder(dst_md_, user_dst_md_);
      if (p.has_sum()) dst_in_reorder_ = make_reorder(user_dst_md_, dst_md_);
    }
    if (wei_md_ != user_wei_md_) wei_reorder_ = make_reorder(user_wei_md_, wei_md_);
    packed_weights_ = std::aligned_alloc(64, round_up(wei_md_.get_size()));
    if (!packed_weights_) return internal_error("conv: cannot allocate packed weights");
    if (weights) {
      weights_constant_ = true;
      dnnl::memory wu(user_wei_md_, eng, const_cast<float*>(weights));
      dnnl::memory wp(wei_md_, eng, packed_weights_);
      auto& s = onednn_stream();
      if (wei_reorder_) wei_reorder_->execute(s, wu, wp);
      else std::memcpy(packed_weights_, weights, wei_md_.get_size());
      s.wait();
    }
    if (p.has_bias && bias) {
      bias_constant_ = true;
      bias_.assign(bias, bias + p.out_channels);
    }
  } catch (const dnnl::error& e) {
    return onednn_status("conv " + p.describe(), e);
  }
  return Status::Ok();
}

void ConvOnednn::run(const float* src, float* dst, const float* weights, const float* bias) {
  auto& eng = onednn_engine();
  auto& s = onednn_stream();
  const size_t src_bytes = src_reorder_ ? round_up(src_md_.get_size()) : 0;
  const size_t dst_bytes = dst_reorder_ ? round_up(dst_md_.get_size()) : 0;
  char* scratch = src_bytes + dst_bytes ? static_cast<char*>(onednn_thread_scratch(src_bytes + dst_bytes)) : nullptr;

  dnnl::memory src_user(user_src_md_, eng, const_cast<float*>(src));
  dnnl::memory src_mem = src_user;
  if (src_reorder_) {
    src_mem = dnnl::memory(src_md_, eng, scratch);
    src_reorder_->execute(s, src_user, src_mem);
  }
  dnnl::memory dst_user(user_dst_md_, eng, dst);
  dnnl::memory dst_mem = dst_user;
  if (dst_reorder_) {
    dst_mem = dnnl::memory(dst_md_, eng, scratch + src_bytes);
    if (dst_in_reorder_) dst_in_reorder_->execute(s, dst_user, dst_mem);
  }
  dnnl::memory wei_mem(wei_md_, eng, packed_weights_);
  if (!weights_constant_) {
    dnnl::memory wu(user_wei_md_, eng, const_cast<float*>(weights));
    if (wei_reorder_) wei_reorder_->execute(s, wu, wei_mem);
    else std::memcpy(packed_weights_, weights, wei_md_.get_size());
  }
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem},
                                             {DNNL_ARG_DST, dst_mem}};
  if (p_.has_bias)
    args[DNNL_ARG_BIAS] = dnnl::memory(bias_md_, eng, const_cast<float*>(bias_constant_ ? bias_.data() : bias));
  prim_.execute(s, args);
  if (dst_reorder_) dst_reorder_->execute(s, dst_mem, dst_user);
  s.wait();
}

}  // namespace kaiwu::kernels::x86
