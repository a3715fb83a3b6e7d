#include "kernels/ref/qconv16.h"

#include <limits>
#include <vector>

namespace kaiwu::kernels::ref {

namespace {

template <typename X, typename W>
void qconv_typed(const X* x, int32_t x_zp, const W* w, const int32_t* w_zp, const int32_t* bias, int64_t* acc,
                 const QConvShape& s, int64_t plane_begin, int64_t plane_end) {
  const int64_t cg = s.in_channels / s.group, mg = s.out_channels / s.group;
  const int64_t in_plane = s.in[0] * s.in[1] * s.in[2];
  const int64_t out_plane = s.out[0] * s.out[1] * s.out[2];
  const int64_t k_size = s.kernel[0] * s.kernel[1] * s.kernel[2];
  std::vector<int32_t> wm(cg * k_size);
  for (int64_t plane = plane_begin; plane < plane_end; ++plane) {
    const int64_t n = plane / s.out_channels, m = plane % s.out_channels, g = m / mg;
    const int32_t wz = w_zp ? w_zp[m] : 0;
    for (int64_t i = 0; i < cg * k_size; ++i) wm[i] = static_cast<int32_t>(w[m * cg * k_size + i]) - wz;
    const X* xg = x + (n * s.in_channels + g * cg) * in_plane;
    int64_t* out = acc + plane * out_plane;
    for (int64_t od = 0; od < s.out[0]; ++od)
      for (int64_t oh = 0; oh < s.out[1]; ++oh)
        for (int64_t ow = 0; ow < s.out[2]; ++ow) {
          int64_t sum = bias ? bias[m] : 0;
          for (int64_t c = 0; c < cg; ++c) {
            const X* xc = xg + c * in_plane;
            const int32_t* wc = wm.data() + c * k_size;
            for (int64_t kd = 0; kd < s.kernel[0]; ++kd) {
              const int64_t id = od * s.stride[0] - s.pad_begin[0] + kd * s.dilation[0];
              if (id < 0 || id >= s.in[0]) continue;
              for (int64_t kh = 0; kh < s.kernel[1]; ++kh) {
                const int64_t ih = oh * s.stride[1] - s.pad_begin[1] + kh * s.dilation[1];
                if (ih < 0 || ih >= s.in[1]) continue;
                const X* xrow = xc + (id * s.in[1] + ih) * s.in[2];
                const int32_t* wrow = wc + (kd * s.kernel[1] + kh) * s.kernel[2];
                for (int64_t kw = 0; kw < s.kernel[2]; ++kw) {
                  const int64_t iw = ow * s.stride[2] - s.pad_begin[2] + kw * s.dilation[2];
                  if (iw < 0 || iw >= s.in[2]) continue;
                  // |x - x_zp| <= 65535 and |w - w_zp| <= 255: the product fits int32, the sum needs int64.
                  sum += (static_cast<int32_t>(xrow[iw]) - x_zp) * wrow[kw];
                }
              }
            }
          }
          out[(od * s.out[1] + oh) * s.out[2] + ow] = sum;
        }
  }
}

template <typename X>
void qconv_w(const X* x, int32_t x_zp, DType wt, const void* w, const int32_t* w_zp, const int32_t* bias,
             int64_t* acc, const QConvShape& s, int64_t b, int64_t e) {
  if (wt == DType::kU8) qconv_typed(x, x_zp, static_cast<const uint8_t*>(w), w_zp, bias, acc, s, b, e);
  else qconv_typed(x, x_zp, static_cast<const int8_t*>(w), w_zp, bias, acc, s, b, e);
}

template <typename Y>
void requantize_typed(const int64_t* acc, Y* y, int64_t channels, int64_t inner, const float* mult, int32_t zp,
                      int64_t begin, int64_t end) {
  constexpr int32_t lo = std::numeric_limits<Y>::lowest(), hi = std::numeric_limits<Y>::max();
  for (int64_t i = begin; i < end; ++i) {
    const int64_t c = (i / inner) % channels;
    y[i] = static_cast<Y>(requantize_one_s64(acc[i], static_cast<double>(mult[c]), zp, lo, hi));
  }
}

}  // namespace

void qconv_s64(DType xt, const void* x, int32_t x_zp, DType wt, const void* w, const int32_t* w_zp,
               const int32_t* bias, int64_t* acc, const QConvShape& s, int64_t plane_begin, int64_t plane_end) {
  switch (xt) {
    case DType::kU8:
      qconv_w(static_cast<const uint8_t*>(x), x_zp, wt, w, w_zp, bias, acc, s, plane_begin, plane_end);
      break;
    case DType::kI8:
      qconv_w(static_cast<const int8_t*>(x), x_zp, wt, w, w_zp, bias, acc, s, plane_begin, plane_end);
      break;
    default:
      qconv_w(static_cast<const int16_t*>(x), x_zp, wt, w, w_zp, bias, acc, s, plane_begin, plane_end);
      break;
  }
}

void requantize_s64(const int64_t* acc, DType yt, void* y, int64_t channels, int64_t inner, const float* multipliers,
                    int32_t zero_point, int64_t begin, int64_t end) {
  switch (yt) {
    case DType::kU8:
      requantize_typed(acc, static_cast<uint8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
    case DType::kI8:
      requantize_typed(acc, static_cast<int8_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
    default:
      requantize_typed(acc, static_cast<int16_t*>(y), channels, inner, multipliers, zero_point, begin, end);
      break;
  }
}

}  // namespace kaiwu::kernels::ref
