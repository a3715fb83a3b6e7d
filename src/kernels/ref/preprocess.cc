#include "kernels/ref/preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/qmath.h"

namespace kaiwu::kernels::ref {
namespace {

// Full-range BT.601 YUV -> RGB (spec §6): R = Y + 1.402 V', G = Y - 0.344136 U' - 0.714136 V', B = Y + 1.772 U'.
constexpr double kYuvToRgb[3][3] = {{1.0, 0.0, 1.402}, {1.0, -0.344136, -0.714136}, {1.0, 1.772, 0.0}};
// Video range: Y in 16..235 and U, V in 16..240 are first expanded to full range, Y' = (Y - 16) * 255 / 219,
// C' = (C - 128) * 255 / 224; these factors are folded into the matrix columns.
constexpr double kVideoY = 255.0 / 219.0, kVideoC = 255.0 / 224.0;

void set_yuv_to_rgb(bool video, bool bgr, PreprocessParams* p) {
  p->affine = true;
  const double col[3] = {video ? kVideoY : 1.0, video ? kVideoC : 1.0, video ? kVideoC : 1.0};
  for (int c = 0; c < 3; ++c) {
    const int src = bgr ? 2 - c : c;
    for (int k = 0; k < 3; ++k) p->mat[c][k] = static_cast<float>(kYuvToRgb[src][k] * col[k]);
    p->base[c] = 0.f;
  }
  p->off[0] = video ? 16.f : 0.f;
  p->off[1] = p->off[2] = 128.f;
}

}  // namespace

std::string preprocess_colour(const std::string& rt, const std::string& train, const std::string& range,
                              PreprocessParams* p) {
  const bool video = range == "bt601_video";
  if (range != "regular" && !video) return "input_space_and_range must be regular or bt601_video, got '" + range + "'";
  if (video && rt != "nv12") return "input_space_and_range bt601_video is only allowed with input_type_rt nv12";
  const bool rt_yuv = rt == "nv12" || rt == "yuv444";
  if (rt != "nv12" && rt != "yuv444" && rt != "rgb" && rt != "bgr" && rt != "gray")
    return "unsupported input_type_rt '" + rt + "' (nv12, yuv444, rgb, bgr, gray)";
  if (train != "rgb" && train != "bgr" && train != "yuv444" && train != "gray")
    return "unsupported input_type_train '" + train + "' (rgb, bgr, yuv444, gray)";
  p->nv12 = rt == "nv12";
  p->in_channels = rt == "gray" ? 1 : 3;
  p->out_channels = train == "gray" ? 1 : 3;
  p->affine = false;
  for (int c = 0; c < 3; ++c) p->perm[c] = c;
  const std::string illegal = "illegal type pair: input_type_rt " + rt + " cannot feed input_type_train " + train;
  if (train == "gray") {
    if (rt != "gray") return illegal + " (gray only takes gray)";
    return "";
  }
  if (rt == "gray") return illegal + " (gray runtime input only feeds gray)";
  if (train == "yuv444") {
    if (!rt_yuv) return illegal + " (yuv444 takes yuv444 or nv12)";
    if (video) {  // expand video range to full range: Y' = (Y-16)*255/219, C' = 128 + (C-128)*255/224
      p->affine = true;
      for (int c = 0; c < 3; ++c)
        for (int k = 0; k < 3; ++k) p->mat[c][k] = 0.f;
      p->mat[0][0] = static_cast<float>(kVideoY);
      p->mat[1][1] = p->mat[2][2] = static_cast<float>(kVideoC);
      p->off[0] = 16.f;
      p->off[1] = p->off[2] = 128.f;
      p->base[0] = 0.f;
      p->base[1] = p->base[2] = 128.f;
    }
    return "";
  }
  // train rgb / bgr
  const bool bgr = train == "bgr";
  if (rt_yuv) {
    set_yuv_to_rgb(video, bgr, p);
  } else if (rt != train) {  // rgb <-> bgr
    p->perm[0] = 2;
    p->perm[2] = 0;
  }
  return "";
}

void preprocess(const uint8_t* in, const uint8_t* uv, void* out, const PreprocessParams& p, int64_t row_begin,
                int64_t row_end) {
  const int64_t H = p.height, W = p.width, C = p.out_channels, plane = H * W;
  const qmath::QRange qr = {p.out_type == DType::kU8 ? 0 : -128, p.out_type == DType::kU8 ? 255 : 127};
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t n = row / H, h = row % H;
    const uint8_t* src = in + n * p.in_batch_stride + h * W * (p.nv12 ? 1 : p.in_channels);
    const uint8_t* src_uv = p.nv12 ? uv + n * p.uv_batch_stride + (h / 2) * W : nullptr;  // W/2 pairs = W bytes
    for (int64_t w = 0; w < W; ++w) {
      float v[3];
      if (p.nv12) {
        v[0] = src[w];
        v[1] = src_uv[(w / 2) * 2];
        v[2] = src_uv[(w / 2) * 2 + 1];
      } else {
        for (int k = 0; k < p.in_channels; ++k) v[k] = src[w * p.in_channels + k];
      }
      for (int64_t c = 0; c < C; ++c) {
        float x;
        if (p.affine) {
          float acc = p.base[c];
          acc = std::fmaf(p.mat[c][0], v[0] - p.off[0], acc);
          acc = std::fmaf(p.mat[c][1], v[1] - p.off[1], acc);
          acc = std::fmaf(p.mat[c][2], v[2] - p.off[2], acc);
          x = std::min(std::max(acc, 0.f), 255.f);
        } else {
          x = v[p.perm[c]];
        }
        const float y = (x - p.mean[c]) * p.scale[c];
        const int64_t o = p.nchw ? (n * C + c) * plane + h * W + w : (row * W + w) * C + c;
        if (p.out_type == DType::kF32) {
          static_cast<float*>(out)[o] = y;
        } else {
          const int32_t q = qmath::quantize_value(y, p.q_scale, p.q_zero_point, qr);
          if (p.out_type == DType::kU8)
            static_cast<uint8_t*>(out)[o] = static_cast<uint8_t>(q);
          else
            static_cast<int8_t*>(out)[o] = static_cast<int8_t>(q);
        }
      }
    }
  }
}

void rgb_to_nv12(const uint8_t* image, int64_t height, int64_t width, bool bgr, bool video, uint8_t* y, uint8_t* uv) {
  static constexpr double kFull[3][4] = {{.299, .587, .114, 0}, {-.169, -.331, .5, 128}, {.5, -.419, -.081, 128}};
  static constexpr double kVideo[3][4] = {{.257, .504, .098, 16}, {-.148, -.291, .439, 128}, {.439, -.368, -.071, 128}};
  const auto& m = video ? kVideo : kFull;
  auto conv = [&](const uint8_t* px, int k) {
    const double r = px[bgr ? 2 : 0], g = px[1], b = px[bgr ? 0 : 2];
    const double v = std::round(m[k][0] * r + m[k][1] * g + m[k][2] * b + m[k][3]);
    return static_cast<uint8_t>(std::min(255.0, std::max(0.0, v)));
  };
  for (int64_t h = 0; h < height; ++h)
    for (int64_t w = 0; w < width; ++w) {
      const uint8_t* px = image + (h * width + w) * 3;
      y[h * width + w] = conv(px, 0);
      if (h % 2 == 0 && w % 2 == 0) {
        uint8_t* c = uv + ((h / 2) * (width / 2) + w / 2) * 2;
        c[0] = conv(px, 1);
        c[1] = conv(px, 2);
      }
    }
}

}  // namespace kaiwu::kernels::ref
