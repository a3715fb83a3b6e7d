#include "kernels/x86/qmatmul_onednn.h"

#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/x86/onednn_int8.h"
#include "kernels/x86/onednn_util.h"

namespace kaiwu::kernels::x86 {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct QMatMulOnednn::Impl {
  QMatMulOnednnConfig cfg;
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul mm;
  dnnl::memory::desc user_a, user_y;
  OnednnInt8Weights b;  // B, packed in the primitive's layout when constant
  std::string impl;
};

QMatMulOnednn::QMatMulOnednn() : impl_(new Impl) {}
QMatMulOnednn::~QMatMulOnednn() = default;

bool QMatMulOnednn::types_supported(DType at, DType bt, DType yt) {
  return onednn_int8_types_ok(at, bt, yt);  // exact int32 products need VNNI
}

Status QMatMulOnednn::create(const QMatMulOnednnConfig& c, std::unique_ptr<QMatMulOnednn>* out) {
  if (!types_supported(c.at, c.bt, c.yt)) return unsupported("oneDNN int8 matmul: types not supported here");
  const bool fused = c.yt != DType::kI32;
  if (fused && c.multipliers.size() != 1 && static_cast<int64_t>(c.multipliers.size()) != c.n)
    return invalid_argument("oneDNN int8 matmul: 1 or n multipliers are needed");
  std::unique_ptr<QMatMulOnednn> k(new QMatMulOnednn());
  Impl& im = *k->impl_;
  im.cfg = c;
  const bool b3 = c.batch > 0;
  dnnl::memory::dims ad = {c.m, c.k}, bd = {c.k, c.n}, yd = {c.m, c.n};
  if (b3) {
    ad.insert(ad.begin(), c.batch);
    bd.insert(bd.begin(), c.batch);
    yd.insert(yd.begin(), c.batch);
  }
  const tag plain = b3 ? tag::abc : tag::ab;
  const int64_t b_count = (b3 ? c.batch : 1) * c.k * c.n;
  try {
    im.user_a = dnnl::memory::desc(ad, onednn_int8_dt(c.at), plain);
    im.user_y = dnnl::memory::desc(yd, onednn_int8_dt(c.yt), plain);
    dnnl::memory::desc user_b(bd, dt::s8, plain), b_md(bd, dt::s8, tag::any);
    dnnl::primitive_attr attr;
    if (fused) {
      if (c.multipliers.size() == 1) attr.set_output_scales(0, c.multipliers);
      else attr.set_output_scales(1 << (b3 ? 2 : 1), c.multipliers);
      attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    }
    if (!c.a_zp_is_zero) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    if (!c.b_zp_is_neutral) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {DNNL_RUNTIME_S32_VAL});
    dnnl::matmul::desc d(im.user_a, b_md, im.user_y);
    im.pd = dnnl::matmul::primitive_desc(d, attr, onednn_engine());
    im.impl = im.pd.impl_info_str();
    if (im.impl.rfind("ref", 0) == 0) return unsupported("oneDNN has only a reference implementation: " + im.impl);
    im.mm = dnnl::matmul(im.pd);
    im.b.init(user_b, im.pd.weights_desc(), c.bt == DType::kU8, b_count);
  } catch (const dnnl::error& e) {
    return unsupported(std::string("oneDNN int8 matmul: ") + e.what());
  }
  *out = std::move(k);
  return Status::Ok();
}

Status QMatMulOnednn::pack_weights(const void* b) { return impl_->b.pack(b, "oneDNN int8 matmul, packing B: "); }

Status QMatMulOnednn::run(const void* a, int32_t a_zp, const void* b, int32_t b_zp, int32_t y_zp, void* y) const {
  const Impl& im = *impl_;
  try {
    dnnl::stream& st = onednn_stream();
    dnnl::memory am(im.user_a, onednn_engine(), const_cast<void*>(a));
    dnnl::memory ym(im.user_y, onednn_engine(), y);
    bool missing = false;
    dnnl::memory bm = im.b.for_run(b, 2, st, &missing);
    if (missing) return internal_error("oneDNN int8 matmul: B was neither packed nor given");
    // u8 B was shifted by -128, so its zero point moves by -128 too.
    int32_t az = a_zp, bz = im.cfg.bt == DType::kU8 ? b_zp - 128 : b_zp, yz = y_zp;
    dnnl::memory azm = onednn_s32_scalar(&az), bzm = onednn_s32_scalar(&bz), yzm = onednn_s32_scalar(&yz);
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, ym}};
    if (im.cfg.yt != DType::kI32) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = yzm;
    if (!im.cfg.a_zp_is_zero) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = azm;
    if (!im.cfg.b_zp_is_neutral) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_WEIGHTS] = bzm;
    im.mm.execute(st, args);
    st.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN int8 matmul: ") + e.what());
  }
  return Status::Ok();
}

const char* QMatMulOnednn::impl_name() const { return impl_->impl.c_str(); }

}  // namespace kaiwu::kernels::x86
