#include "ops/qconv_kernel.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qconv16.h"
#include "kernels/ref/quantize.h"
#include "kernels/x86/qconv16.h"
#include "kernels/x86/qconv16_direct.h"
#include "kernels/x86/qconv_onednn.h"
#include "kernels/x86/quantize.h"
#include "ops/conv_geometry.h"
#include "ops/quant_common.h"

namespace kaiwu::ops {

namespace {

const Tensor* opt_input(const std::vector<const Tensor*>& in, int i) {
  return i >= 0 && static_cast<size_t>(i) < in.size() ? in[i] : nullptr;
}

// A per-tensor (1 value) or per-channel (m values) vector expanded to m values.
template <typename T>
std::vector<T> expand(std::vector<T> v, int64_t m) {
  if (v.size() == 1 && m != 1) v.assign(m, v[0]);
  return v;
}

bool is_nhwc(const ir::Node& n) { return n.domain == "kaiwu" && node_layout(n) == kernels::ActLayout::kNHWC; }

// Copies a [N, C, P] tensor of `es`-byte elements to [N, P, C] (to_nhwc) or back.
void permute_channels(const void* src, void* dst, int64_t n, int64_t c, int64_t p, size_t es, bool to_nhwc) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i = 0; i < p; ++i) {
        const int64_t nchw = (b * c + ci) * p + i, nhwc = (b * p + i) * c + ci;
        std::memcpy(d + (to_nhwc ? nhwc : nchw) * es, s + (to_nhwc ? nchw : nhwc) * es, es);
      }
}

class QConvKernel : public Kernel {
 public:
  QConvInputs ix;
  bool nhwc = false;  // kaiwu.QLinearConv with layout NHWC: x and y channels-last
  QConvGeometry g;
  DType xt = DType::kU8, wt = DType::kU8, yt = DType::kU8;
  bool reference_only = false;
  std::unique_ptr<kernels::x86::QConvOnednn> fast;
  bool fused = false, w_packed = false, w_zp_known_ok = false;
  // x or y int16 (QLinearConv only): int64 accumulation and double requantization (kernels/ref/qconv16.h). Fast
  // paths: fast16 (int16 x as two oneDNN int8 halves) or, for an 8-bit x, `fast` in raw int32 mode.
  bool wide = false;
  std::unique_ptr<kernels::x86::QConv16Onednn> fast16;
  // int16 x, NHWC, constant symmetric int8 weights, a shape QConv16Direct takes: the direct AVX-512 kernels (preferred).
  std::unique_ptr<kernels::x86::QConv16Direct> direct16;
  // kaiwu.QLinearConv's y_min / y_max (a fused Relu / Clip in output units): the output is clamped to them.
  bool clamped = false;
  int32_t y_min = INT32_MIN, y_max = INT32_MAX;

  // Clamps the output in place to [y_min, y_max] (the paths whose requantization does not take the bounds).
  void clamp_output(Tensor* y) const {
    if (!clamped) return;
    auto apply = [&](auto* p) {
      const int64_t n = y->numel();
      using T = std::remove_reference_t<decltype(*p)>;
      parallel_for(n, 65536, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(std::clamp<int32_t>(p[i], y_min, y_max));
      });
    };
    if (yt == DType::kI16) apply(y->data<int16_t>());
    else if (yt == DType::kI8) apply(y->data<int8_t>());
    else if (yt == DType::kU8) apply(y->data<uint8_t>());
  }

  const char* impl_name() const override {
    if (direct16) {
      using K = kernels::x86::QConv16Direct::Kind;
      const K kind = direct16->kind();
      return kind == K::kPointwise ? "int16_direct_pw" : (kind == K::kDepthwise ? "int16_direct_dw" : "int16_direct");
    }
    return fast16 ? "onednn_int16_split" : (fast ? "onednn" : "ref");
  }

  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    bool clamped_inside = false;  // the direct kernels apply y_min / y_max themselves
    Status st = wide ? run_wide(in, out, &clamped_inside) : run_narrow(in, out);
    if (st.ok() && clamped && !clamped_inside) clamp_output(out[0]);
    return st;
  }

  Status run_narrow(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
    const int64_t m = g.shape.out_channels;
    const bool qlinear = ix.qlinear();
    const Tensor* xzt = opt_input(in, ix.x_zp);
    const int32_t x_zp = xzt ? static_cast<int32_t>(xzt->get_i64(0)) : 0;
    const std::vector<int32_t> w_zp = expand(read_zero_points(opt_input(in, ix.w_zp), 1), m);
    const Tensor* bt = opt_input(in, ix.bias);
    const int32_t* bias = bt ? bt->data<int32_t>() : nullptr;
    int32_t y_zp = 0;
    if (nhwc && fast && fused) {  // the hot path: everything is baked into the oneDNN primitive
      const Tensor* yzt = opt_input(in, ix.y_zp);
      y_zp = yzt ? static_cast<int32_t>(yzt->get_i64(0)) : 0;
      const void* w = w_packed ? nullptr : in[ix.w]->raw();
      return fast->run(in[ix.x]->raw(), x_zp, w, bias, y_zp, out[0]->raw());
    }
    std::vector<float> mult;
    if (qlinear) {
      const Tensor* yzt = opt_input(in, ix.y_zp);
      y_zp = yzt ? static_cast<int32_t>(yzt->get_i64(0)) : 0;
      const float xs = static_cast<float>(in[ix.x_scale]->get_f64(0));
      const float ys = static_cast<float>(in[ix.y_scale]->get_f64(0));
      const std::vector<float> ws = expand(read_scales(*in[ix.w_scale]), m);
      mult.resize(m);
      for (int64_t c = 0; c < m; ++c) mult[c] = xs * ws[c] / ys;  // (x_scale * w_scale) / y_scale, in float
    }
    const void* x = in[ix.x]->raw();
    void* y = out[0]->raw();
    const int64_t plane = g.out_plane;
    const DType acc_requant_t = yt;
    std::vector<uint8_t> x_nchw, y_nchw;
    void* y_final = y;
    if (nhwc) {  // everything else runs on NCHW copies
      const kernels::ref::QConvShape& s = g.shape;
      const int64_t in_plane = s.in[0] * s.in[1] * s.in[2];
      x_nchw.resize(in[ix.x]->nbytes());
      permute_channels(x, x_nchw.data(), s.batch, s.in_channels, in_plane, dtype_size(xt), false);
      x = x_nchw.data();
      y_nchw.resize(out[0]->nbytes());
      y = y_nchw.data();
    }
    Status st = run_nchw(in, x, y, x_zp, w_zp, bias, y_zp, mult, acc_requant_t);
    if (nhwc && st.ok())
      permute_channels(y, y_final, g.shape.batch, m, plane, dtype_size(yt), true);
    return st;
  }

  // QLinearConv with an int16 x or y (see ops/qconv_kernel.h).
  Status run_wide(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, bool* clamped_inside) {
    const int64_t m = g.shape.out_channels;
    const Tensor* xzt = opt_input(in, ix.x_zp);
    const int32_t x_zp = xzt ? static_cast<int32_t>(xzt->get_i64(0)) : 0;
    const std::vector<int32_t> w_zp = expand(read_zero_points(opt_input(in, ix.w_zp), 1), m);
    const Tensor* bt = opt_input(in, ix.bias);
    const int32_t* bias = bt ? bt->data<int32_t>() : nullptr;
    const Tensor* yzt = opt_input(in, ix.y_zp);
    const int32_t y_zp = yzt ? static_cast<int32_t>(yzt->get_i64(0)) : 0;
    const float xs = static_cast<float>(in[ix.x_scale]->get_f64(0));
    const float ys = static_cast<float>(in[ix.y_scale]->get_f64(0));
    const std::vector<float> ws = expand(read_scales(*in[ix.w_scale]), m);
    std::vector<float> mult(m);
    bool finite = true;
    for (int64_t c = 0; c < m; ++c) {
      mult[c] = xs * ws[c] / ys;  // (x_scale * w_scale) / y_scale, in float, as for int8
      finite = finite && std::isfinite(mult[c]);
    }
    const int64_t total = out[0]->numel(), plane = g.out_plane;
    if (direct16 && finite && x_zp == 0) {
      *clamped_inside = true;
      const kernels::ref::QConvShape& s = g.shape;
      const int64_t per_pixel = direct16->kind() == kernels::x86::QConv16Direct::Kind::kDepthwise
                                    ? s.kernel[1] * s.kernel[2] * m
                                    : s.in_channels * s.kernel[1] * s.kernel[2] * m;
      const int64_t grain = std::max<int64_t>(6, (262144 / (per_pixel + 1) + 5) / 6 * 6);
      const int16_t* x = in[ix.x]->data<int16_t>();
      void* y = out[0]->raw();
      parallel_for(direct16->pixels(), grain, [&](int64_t b, int64_t e) {
        direct16->run(x, bias, mult.data(), y_zp, yt, y, b, e, y_min, y_max);
      });
      return Status::Ok();
    }
    const bool w_ok = w_zp_known_ok || kernels::x86::QConvOnednn::weights_supported(wt, w_zp.data(), m);
    if (finite && w_ok && (fast16 ? x_zp == 0 : fast != nullptr)) {
      const void* w = w_packed ? nullptr : in[ix.w]->raw();
      // Per-thread scratch reused across runs, not zero-filled (every element is written before it is read): fresh
      // allocations of this size fault in every page on every run.
      namespace x86 = kernels::x86;
      int32_t* acc_lo = static_cast<int32_t*>(x86::qconv16_scratch(1, total * sizeof(int32_t)));
      int32_t* acc_hi = fast16 ? static_cast<int32_t*>(x86::qconv16_scratch(2, total * sizeof(int32_t))) : nullptr;
      if (fast16) {
        const int64_t nx = in[ix.x]->numel();
        const int16_t* x = in[ix.x]->data<int16_t>();
        uint8_t* lo = static_cast<uint8_t*>(x86::qconv16_scratch(0, 2 * nx + 64));
        int8_t* hi = reinterpret_cast<int8_t*>(lo + (nx + 63) / 64 * 64);
        parallel_for(nx, 32768, [&](int64_t b, int64_t e) { x86::split_int16(x, lo, hi, b, e); });
        KW_RETURN_IF_ERROR(fast16->run(lo, hi, w, acc_lo, acc_hi));
      } else {
        KW_RETURN_IF_ERROR(fast->run(in[ix.x]->raw(), x_zp, w, nullptr, 0, acc_lo));
      }
      void* y = out[0]->raw();
      parallel_for(total, 16384, [&](int64_t b, int64_t e) {
        x86::requantize_split_s32(acc_lo, acc_hi, bias, yt, y, m, nhwc ? 1 : plane, mult.data(), y_zp, b, e);
      });
      return Status::Ok();
    }
    // Reference: NCHW, whole output planes per chunk, accumulated in int64 then requantized.
    const kernels::ref::QConvShape& s = g.shape;
    const void* x = in[ix.x]->raw();
    void* y = out[0]->raw();
    std::vector<uint8_t> x_nchw, y_nchw;
    if (nhwc) {
      x_nchw.resize(in[ix.x]->nbytes());
      permute_channels(x, x_nchw.data(), s.batch, s.in_channels, s.in[0] * s.in[1] * s.in[2], dtype_size(xt), false);
      x = x_nchw.data();
      y_nchw.resize(out[0]->nbytes());
      y = y_nchw.data();
    }
    const int64_t planes = s.batch * m;
    std::vector<int64_t> acc(planes * plane);
    const void* w = in[ix.w]->raw();
    const int64_t cost = plane * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
    const int64_t grain = cost >= 65536 ? 1 : 65536 / (cost + 1) + 1;
    parallel_for(planes, grain, [&](int64_t b, int64_t e) {
      kernels::ref::qconv_s64(xt, x, x_zp, wt, w, w_zp.data(), bias, acc.data(), s, b, e);
      kernels::ref::requantize_s64(acc.data(), yt, y, m, plane, mult.data(), y_zp, b * plane, e * plane);
    });
    if (nhwc) permute_channels(y, out[0]->raw(), s.batch, m, plane, dtype_size(yt), true);
    return Status::Ok();
  }

  Status run_nchw(const std::vector<const Tensor*>& in, const void* x, void* y, int32_t x_zp,
                  const std::vector<int32_t>& w_zp, const int32_t* bias, int32_t y_zp, const std::vector<float>& mult,
                  DType acc_requant_t) {
    const int64_t m = g.shape.out_channels;
    const bool qlinear = ix.qlinear();
    const int64_t planes = g.shape.batch * m, plane = g.out_plane;
    if (fast && !nhwc && (w_zp_known_ok || kernels::x86::QConvOnednn::weights_supported(wt, w_zp.data(), m))) {
      const void* w = w_packed ? nullptr : in[ix.w]->raw();
      if (!qlinear) return fast->run(x, x_zp, w, nullptr, 0, y);
      if (fused) return fast->run(x, x_zp, w, bias, y_zp, y);
      std::vector<int32_t> acc(planes * plane);
      KW_RETURN_IF_ERROR(fast->run(x, x_zp, w, nullptr, 0, acc.data()));
      parallel_for(planes * plane, 16384, [&](int64_t b, int64_t e) {
        kernels::x86::requantize_s32(acc.data(), bias, acc_requant_t, y, m, plane, mult.data(), y_zp, b, e);
      });
      return Status::Ok();
    }
    // Reference: whole output planes per chunk, accumulated then requantized.
    std::vector<int32_t> acc_buf(qlinear ? planes * plane : 0);
    int32_t* acc = qlinear ? acc_buf.data() : static_cast<int32_t*>(y);
    const void* w = in[ix.w]->raw();
    const kernels::ref::QConvShape& s = g.shape;
    const int64_t cost = plane * (s.in_channels / s.group) * s.kernel[0] * s.kernel[1] * s.kernel[2];
    const int64_t grain = cost >= 65536 ? 1 : 65536 / (cost + 1) + 1;
    parallel_for(planes, grain, [&](int64_t b, int64_t e) {
      kernels::ref::qconv_s32(xt, x, x_zp, wt, w, w_zp.data(), bias, acc, s, b, e);
      if (!qlinear) return;
      if (reference_only)
        kernels::ref::requantize_s32(acc, nullptr, yt, y, m, plane, mult.data(), y_zp, b * plane, e * plane);
      else
        kernels::x86::requantize_s32(acc, nullptr, yt, y, m, plane, mult.data(), y_zp, b * plane, e * plane);
    });
    return Status::Ok();
  }
};

bool has(const KernelInit& init, int i) { return i >= 0 && init.has_input(i); }
const Tensor* value(const KernelInit& init, int i) {
  return i >= 0 && static_cast<size_t>(i) < init.values.size() ? init.values[i] : nullptr;
}

// The oneDNN configuration of kernel `k` in raw mode (exact int32 accumulators); the caller may switch it to fused
// requantization.
kernels::x86::QConvOnednnConfig raw_onednn_config(const QConvKernel& k, const KernelInit& init, const QConvInputs& ix) {
  kernels::x86::QConvOnednnConfig c;
  c.shape = k.g.shape;
  c.nsp = k.g.nsp;
  for (int i = 0; i < c.nsp; ++i) c.pads_end[3 - c.nsp + i] = k.g.pads_end[i];
  c.xt = k.xt;
  c.wt = k.wt;
  c.yt = DType::kI32;
  c.nhwc = k.nhwc;
  const Tensor* xzv = value(init, ix.x_zp);
  c.x_zp_is_zero = !has(init, ix.x_zp) || (xzv && xzv->get_i64(0) == 0);
  return c;
}

}  // namespace

Status infer_qconv(InferContext& ctx, const QConvInputs& ix) {
  auto has = [&](int i) { return i >= 0 && ctx.has_input(i); };
  if (!has(ix.x) || !has(ix.w)) return ctx.fail("needs inputs x and w");
  const bool nhwc = is_nhwc(ctx.node());
  TensorDesc x = ctx.input(ix.x);
  const TensorDesc& w = ctx.input(ix.w);
  if (nhwc) {
    if (x.shape.size() != 4) return ctx.fail("layout NHWC needs a 4-D input");
    x.shape = nhwc_to_nchw(x.shape);
  }
  const bool x_ok = is_q8(x.dtype) || (x.dtype == DType::kI16 && ix.qlinear());
  if (!x_ok || !is_q8(w.dtype))
    return ctx.fail(std::string("x must be uint8 or int8 (or int16 for QLinearConv) and w uint8 or int8, got ") +
                    dtype_name(x.dtype) + " and " + dtype_name(w.dtype));
  QConvGeometry g;
  std::string why = qconv_geometry(ctx.node(), x.shape, w.shape, &g);
  if (!why.empty()) return ctx.fail(why);
  const int64_t m = w.shape[0];
  auto check = [&](int i, const char* what, bool per_channel, DType want) -> std::string {
    if (!has(i)) return "";
    const TensorDesc& d = ctx.input(i);
    int64_t n = shape_numel(d.shape);
    if (n != 1 && !(per_channel && n == m && d.shape.size() == 1))
      return std::string(what) + " must be a scalar" + (per_channel ? " or have one value per output channel" : "") +
             ", got shape " + shape_to_string(d.shape);
    if (want == DType::kF32 ? (d.dtype != DType::kF32 && d.dtype != DType::kF16) : d.dtype != want)
      return std::string(what) + " has type " + dtype_name(d.dtype);
    return "";
  };
  DType yt = DType::kI32;
  for (const std::string& e : {check(ix.x_zp, "x_zero_point", false, x.dtype), check(ix.w_zp, "w_zero_point", true, w.dtype)})
    if (!e.empty()) return ctx.fail(e);
  if (ix.qlinear()) {
    if (!has(ix.x_scale) || !has(ix.w_scale) || !has(ix.y_scale)) return ctx.fail("needs x_scale, w_scale and y_scale");
    yt = has(ix.y_zp) ? ctx.input(ix.y_zp).dtype : x.dtype;
    if (!is_q8(yt) && yt != DType::kI16)
      return ctx.fail(std::string("y_zero_point must be uint8, int8 or int16, got ") + dtype_name(yt));
    for (const std::string& e : {check(ix.x_scale, "x_scale", false, DType::kF32),
                                 check(ix.w_scale, "w_scale", true, DType::kF32),
                                 check(ix.y_scale, "y_scale", false, DType::kF32), check(ix.y_zp, "y_zero_point", false, yt)})
      if (!e.empty()) return ctx.fail(e);
    if (has(ix.bias)) {
      const TensorDesc& b = ctx.input(ix.bias);
      if (b.dtype != DType::kI32 || b.shape != Shape{m})
        return ctx.fail("B must be int32 of shape [" + std::to_string(m) + "], got " + dtype_name(b.dtype) + " " +
                        shape_to_string(b.shape));
    }
  }
  const ir::Node& node = ctx.node();
  if (node.has_attr("y_min") || node.has_attr("y_max")) {
    if (node.domain != "kaiwu" || !ix.qlinear()) return ctx.fail("y_min / y_max are attributes of kaiwu.QLinearConv only");
    if (node.attr_int("y_min", INT32_MIN) > node.attr_int("y_max", INT32_MAX)) return ctx.fail("y_min > y_max");
  }
  ctx.outputs[0] = {yt, nhwc ? nchw_to_nhwc(g.out_shape) : g.out_shape};
  return Status::Ok();
}

Status create_qconv(const KernelInit& init, const QConvInputs& ix, std::unique_ptr<Kernel>* out) {
  auto k = std::make_unique<QConvKernel>();
  k->ix = ix;
  k->nhwc = is_nhwc(init.node);
  const Shape x_shape = k->nhwc ? nhwc_to_nchw(init.inputs[ix.x].shape) : init.inputs[ix.x].shape;
  std::string why = qconv_geometry(init.node, x_shape, init.inputs[ix.w].shape, &k->g);
  if (!why.empty()) return init.fail(why);
  k->xt = init.inputs[ix.x].dtype;
  k->wt = init.inputs[ix.w].dtype;
  k->yt = init.outputs[0].dtype;
  k->reference_only = init.reference_only;
  if (init.node.has_attr("y_min") || init.node.has_attr("y_max")) {
    k->clamped = true;
    k->y_min = static_cast<int32_t>(std::clamp<int64_t>(init.node.attr_int("y_min", INT32_MIN), INT32_MIN, INT32_MAX));
    k->y_max = static_cast<int32_t>(std::clamp<int64_t>(init.node.attr_int("y_max", INT32_MAX), INT32_MIN, INT32_MAX));
  }
  const int64_t m = k->g.shape.out_channels;
  const bool qlinear = ix.qlinear();
  namespace x86 = kernels::x86;
  k->wide = qlinear && (k->xt == DType::kI16 || k->yt == DType::kI16);
  if (k->wide) {
    const bool x16 = k->xt == DType::kI16;
    if (init.reference_only || !x86::QConvOnednn::types_supported(x16 ? DType::kU8 : k->xt, k->wt, DType::kI32)) {
      *out = std::move(k);
      return Status::Ok();
    }
    const Tensor* wzv = value(init, ix.w_zp);
    const bool wz_known = !has(init, ix.w_zp) || wzv;
    std::vector<int32_t> wz = expand(read_zero_points(has(init, ix.w_zp) ? wzv : nullptr, 1), m);
    if (wz_known && !x86::QConvOnednn::weights_supported(k->wt, wz.data(), m)) {
      *out = std::move(k);
      return Status::Ok();
    }
    x86::QConvOnednnConfig c = raw_onednn_config(*k, init, ix);
    const Tensor* wv = value(init, ix.w);
    if (x16 && k->nhwc && wv && k->wt == DType::kI8 && x86::QConv16Direct::supported(k->g.shape) &&
        std::all_of(wz.begin(), wz.end(), [](int32_t z) { return z == 0; })) {
      KW_RETURN_IF_ERROR(x86::QConv16Direct::create(k->g.shape, wv->data<int8_t>(), &k->direct16)
                             .with_context(init.node.describe()));
    }
    if (x16) {
      std::unique_ptr<x86::QConv16Onednn> f;
      if (x86::QConv16Onednn::create(c, &f).ok()) {
        if (wv) KW_RETURN_IF_ERROR(f->pack_weights(wv->raw()).with_context(init.node.describe()));
        k->w_packed = wv != nullptr;
        k->fast16 = std::move(f);
      }
    } else {
      std::unique_ptr<x86::QConvOnednn> f;
      if (x86::QConvOnednn::create(c, &f).ok()) {
        if (wv) KW_RETURN_IF_ERROR(f->pack_weights(wv->raw()).with_context(init.node.describe()));
        k->w_packed = wv != nullptr;
        k->fast = std::move(f);
      }
    }
    k->w_zp_known_ok = wz_known;
    *out = std::move(k);
    return Status::Ok();
  }
  if (!init.reference_only && x86::QConvOnednn::types_supported(k->xt, k->wt, qlinear ? k->yt : DType::kI32)) {
    // Weight zero points known now decide once; run-time ones are checked at every run.
    const Tensor* wzv = value(init, ix.w_zp);
    bool wz_known = !has(init, ix.w_zp) || wzv;
    std::vector<int32_t> wz = expand(read_zero_points(has(init, ix.w_zp) ? wzv : nullptr, 1), m);
    bool usable = !wz_known || x86::QConvOnednn::weights_supported(k->wt, wz.data(), m);
    if (usable) {
      x86::QConvOnednnConfig c = raw_onednn_config(*k, init, ix);
      const Tensor *xs = value(init, ix.x_scale), *ws = value(init, ix.w_scale), *ys = value(init, ix.y_scale);
      if (qlinear && xs && ws && ys) {  // constant scales: fuse the requantization into oneDNN
        c.yt = k->yt;
        c.with_bias = has(init, ix.bias);
        const std::vector<float> wsv = expand(read_scales(*ws), m);
        const float xsv = static_cast<float>(xs->get_f64(0)), ysv = static_cast<float>(ys->get_f64(0));
        for (int64_t i = 0; i < m; ++i) c.multipliers.push_back(xsv * wsv[i] / ysv);
        for (float v : c.multipliers)
          if (!std::isfinite(v)) c.yt = DType::kI32;  // degenerate scales: requantize ourselves (NaN -> zero point)
        if (c.yt == DType::kI32) {
          c.with_bias = false;
          c.multipliers.clear();
        }
      }
      std::unique_ptr<x86::QConvOnednn> f;
      if (x86::QConvOnednn::create(c, &f).ok()) {
        k->fused = c.yt != DType::kI32;
        k->w_zp_known_ok = wz_known;
        if (const Tensor* wv = value(init, ix.w)) {
          KW_RETURN_IF_ERROR(f->pack_weights(wv->raw()).with_context(init.node.describe()));
          k->w_packed = true;
        }
        k->fast = std::move(f);
      }
    }
  }
  *out = std::move(k);
  return Status::Ok();
}

}  // namespace kaiwu::ops
