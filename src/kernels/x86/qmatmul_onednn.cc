#include "kernels/x86/qmatmul_onednn.h"

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

// Per-thread scratch for B converted / reordered at run time, 64-byte aligned, grown on demand.
void* scratch(size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf b;
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

void shift_u8(const uint8_t* b, int8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(b[i] ^ 0x80u);
}

}  // namespace

struct QMatMulOnednn::Impl {
  QMatMulOnednnConfig cfg;
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul mm;
  dnnl::memory::desc user_a, user_b, user_y;
  bool b_reorder = false;
  dnnl::reorder b_r;
  dnnl::memory packed;
  bool packed_ok = false;
  int64_t b_count = 0;
  std::string impl;
};

QMatMulOnednn::QMatMulOnednn() : impl_(new Impl) {}
QMatMulOnednn::~QMatMulOnednn() = default;

bool QMatMulOnednn::types_supported(DType at, DType bt, DType yt) {
  const CpuInfo& c = cpu_info();
  if (!(c.avx512vnni && c.avx512bw && c.avx512vl)) return false;  // exact int32 products need VNNI
  bool a_ok = at == DType::kU8 || at == DType::kI8, b_ok = bt == DType::kU8 || bt == DType::kI8;
  return a_ok && b_ok && (yt == DType::kU8 || yt == DType::kI8 || yt == DType::kI32);
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
  im.b_count = (b3 ? c.batch : 1) * c.k * c.n;
  try {
    im.user_a = dnnl::memory::desc(ad, to_dt(c.at), plain);
    im.user_b = dnnl::memory::desc(bd, dt::s8, plain);
    im.user_y = dnnl::memory::desc(yd, to_dt(c.yt), plain);
    dnnl::memory::desc b_md(bd, dt::s8, tag::any);
    dnnl::primitive_attr attr;
    if (fused) {
      if (c.multipliers.size() == 1) attr.set_output_scales(0, c.multipliers);
      else attr.set_output_scales(1 << (b3 ? 2 : 1), c.multipliers);
      attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    }
    if (!c.a_zp_is_zero) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    if (!c.b_zp_is_neutral) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {DNNL_RUNTIME_S32_VAL});
    dnnl::matmul::desc d(im.user_a, b_md, im.user_y);
    im.pd = dnnl::matmul::primitive_desc(d, attr, engine());
    im.impl = im.pd.impl_info_str();
    if (im.impl.rfind("ref", 0) == 0) return unsupported("oneDNN has only a reference implementation: " + im.impl);
    im.mm = dnnl::matmul(im.pd);
    im.b_reorder = im.pd.weights_desc() != im.user_b;
    if (im.b_reorder)
      im.b_r = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), im.user_b, engine(), im.pd.weights_desc()));
  } catch (const dnnl::error& e) {
    return unsupported(std::string("oneDNN int8 matmul: ") + e.what());
  }
  *out = std::move(k);
  return Status::Ok();
}

Status QMatMulOnednn::pack_weights(const void* b) {
  Impl& im = *impl_;
  try {
    dnnl::stream& st = stream();
    std::vector<int8_t> tmp;
    const int8_t* bs = static_cast<const int8_t*>(b);
    if (im.cfg.bt == DType::kU8) {
      tmp.resize(im.b_count);
      shift_u8(static_cast<const uint8_t*>(b), tmp.data(), im.b_count);
      bs = tmp.data();
    }
    im.packed = dnnl::memory(im.pd.weights_desc(), engine());
    dnnl::memory user(im.user_b, engine(), const_cast<int8_t*>(bs));
    if (im.b_reorder) im.b_r.execute(st, user, im.packed);
    else std::memcpy(im.packed.get_data_handle(), bs, im.b_count);
    st.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN int8 matmul, packing B: ") + e.what());
  }
  im.packed_ok = true;
  return Status::Ok();
}

Status QMatMulOnednn::run(const void* a, int32_t a_zp, const void* b, int32_t b_zp, int32_t y_zp, void* y) const {
  const Impl& im = *impl_;
  try {
    dnnl::stream& st = stream();
    dnnl::memory am(im.user_a, engine(), const_cast<void*>(a)), ym(im.user_y, engine(), y), bm;
    if (im.packed_ok && !b) {
      bm = im.packed;
    } else {
      if (!b) return internal_error("oneDNN int8 matmul: B was neither packed nor given");
      const size_t shifted = im.cfg.bt == DType::kU8 ? (im.b_count + 63) / 64 * 64 : 0;
      uint8_t* base = static_cast<uint8_t*>(scratch(shifted + (im.b_reorder ? im.pd.weights_desc().get_size() : 0)));
      const int8_t* bs = static_cast<const int8_t*>(b);
      if (shifted) {
        shift_u8(static_cast<const uint8_t*>(b), reinterpret_cast<int8_t*>(base), im.b_count);
        bs = reinterpret_cast<const int8_t*>(base);
      }
      dnnl::memory user(im.user_b, engine(), const_cast<int8_t*>(bs));
      if (im.b_reorder) {
        bm = dnnl::memory(im.pd.weights_desc(), engine(), base + shifted);
        im.b_r.execute(st, user, bm);
      } else {
        bm = user;
      }
    }
    // u8 B was shifted by -128, so its zero point moves by -128 too.
    int32_t az = a_zp, bz = im.cfg.bt == DType::kU8 ? b_zp - 128 : b_zp, yz = y_zp;
    dnnl::memory azm({{1}, dt::s32, tag::x}, engine(), &az), bzm({{1}, dt::s32, tag::x}, engine(), &bz);
    dnnl::memory yzm({{1}, dt::s32, tag::x}, engine(), &yz);
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
