#include "kernels/ref/qelementwise.h"

#include <algorithm>

// Deliberately no contraction: every product below is rounded to f32 on its own unless fmaf is written.
#pragma GCC optimize("fp-contract=off")

namespace kaiwu::kernels {

BroadcastPlan make_broadcast_plan(const std::vector<int64_t>& out, const std::vector<int64_t>& a_strides,
                                  const std::vector<int64_t>& b_strides) {
  BroadcastPlan p;
  for (int64_t d : out) p.numel *= d;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;  // size-1 dims contribute nothing
    if (!p.dims.empty()) {
      const size_t j = p.dims.size() - 1;
      // Merge dim i into the previous kept dim when both inputs walk them as one contiguous run.
      if (p.a_strides[j] == a_strides[i] * out[i] && p.b_strides[j] == b_strides[i] * out[i]) {
        p.dims[j] *= out[i];
        p.a_strides[j] = a_strides[i];
        p.b_strides[j] = b_strides[i];
        continue;
      }
    }
    p.dims.push_back(out[i]);
    p.a_strides.push_back(a_strides[i]);
    p.b_strides.push_back(b_strides[i]);
  }
  if (p.dims.empty() && p.numel == 1) {
    p.dims = {1};
    p.a_strides = {0};
    p.b_strides = {0};
  }
  return p;
}

namespace ref {
namespace {

template <typename TX, typename TY>
void qbinary_t(const TX* a, const TX* b, TY* y, const BroadcastPlan& plan, const QBinaryParams& p, int64_t begin,
               int64_t end) {
  const float zy = static_cast<float>(p.zy);
  for_each_broadcast_row(plan, begin, end, [&](int64_t ao, int64_t as, int64_t bo, int64_t bs, int64_t yo, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      const int32_t da = static_cast<int32_t>(a[ao + k * as]) - p.za;
      const int32_t db = static_cast<int32_t>(b[bo + k * bs]) - p.zb;
      float v;
      if (p.mul) {
        // int64 product: equal to the int32 one whenever that does not overflow (always for 8-bit inputs).
        v = static_cast<float>(static_cast<int64_t>(da) * db) * p.m;
      } else {
        const float pb = static_cast<float>(db) * p.mb;
        v = std::fmaf(static_cast<float>(da), p.ma, pb);
      }
      y[yo + k] = q_finish<TY>(v, zy);
    }
  });
}

template <typename TX, typename TY>
void requantize_t(const TX* x, TY* y, const RequantizeParams& p, int64_t begin, int64_t end) {
  const float zy = static_cast<float>(p.zy);
  for (int64_t i = begin; i < end; ++i) {
    const float d = static_cast<float>(static_cast<int32_t>(x[i]) - p.zx);
    const float v = d * p.m;
    y[i] = q_finish<TY>(v, zy);
  }
}

}  // namespace

void qbinary(DType xt, const void* a, const void* b, DType yt, void* y, const BroadcastPlan& plan,
             const QBinaryParams& p, int64_t begin, int64_t end) {
  dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      qbinary_t<TX, TY>(static_cast<const TX*>(a), static_cast<const TX*>(b), static_cast<TY*>(y), plan, p, begin,
                        end);
    });
  });
}

void requantize(DType xt, const void* x, DType yt, void* y, const RequantizeParams& p, int64_t begin, int64_t end) {
  dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      requantize_t<TX, TY>(static_cast<const TX*>(x), static_cast<TY*>(y), p, begin, end);
    });
  });
}

void qlut(bool x_signed, const uint8_t* x, const uint8_t* table, uint8_t* y, int64_t begin, int64_t end) {
  const uint8_t flip = x_signed ? 0x80 : 0x00;  // int8 x: (uint8)x ^ 0x80 == x + 128
  for (int64_t i = begin; i < end; ++i) y[i] = table[static_cast<uint8_t>(x[i] ^ flip)];
}

void qlut_wide(DType xt, const void* x, DType yt, const void* table, void* y, int64_t begin, int64_t end) {
  dispatch_qtype(xt, [&](auto xv) {
    using TX = decltype(xv);
    dispatch_qtype(yt, [&](auto yv) {
      using TY = decltype(yv);
      const TX* xp = static_cast<const TX*>(x);
      const TY* t = static_cast<const TY*>(table);
      TY* yp = static_cast<TY*>(y);
      constexpr int32_t off = -static_cast<int32_t>(std::numeric_limits<TX>::lowest());
      for (int64_t i = begin; i < end; ++i) yp[i] = t[static_cast<int32_t>(xp[i]) + off];
    });
  });
}

}  // namespace ref
}  // namespace kaiwu::kernels
