// Differential test of the AVX-512 kaiwu.Preprocess kernel against the scalar reference: bit-identical outputs over
// every input form (nv12 planes, packed 3-channel, gray), colour mode (copy, swap, BT.601 full / video affine),
// output layout (NCHW / NHWC) and type (f32, int8, uint8), on widths with vector tails and several batches.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ref/preprocess.h"
#include "kernels/x86/preprocess.h"

namespace kaiwu {
namespace {

using kernels::ref::PreprocessParams;

struct Case {
  std::string rt, train, range;
};

TEST(PreprocessX86, MatchesReferenceBitExact) {
  if (!kernels::x86::preprocess_available()) GTEST_SKIP() << "built without AVX-512 VBMI";
  const std::vector<Case> cases = {{"nv12", "rgb", "regular"},   {"nv12", "bgr", "bt601_video"},
                                   {"nv12", "yuv444", "regular"}, {"nv12", "yuv444", "bt601_video"},
                                   {"yuv444", "rgb", "regular"},  {"rgb", "rgb", "regular"},
                                   {"rgb", "bgr", "regular"},     {"bgr", "rgb", "regular"},
                                   {"gray", "gray", "regular"}};
  std::mt19937 rng(7);
  int checked = 0;
  for (const Case& cs : cases) {
    for (int64_t W : {2, 6, 16, 18, 30, 34, 64}) {
      for (int64_t H : {2, 4}) {
        for (int layout = 0; layout < 2; ++layout) {
          for (DType ot : {DType::kF32, DType::kI8, DType::kU8}) {
            PreprocessParams p;
            ASSERT_EQ(kernels::ref::preprocess_colour(cs.rt, cs.train, cs.range, &p), "");
            const int64_t N = 2;
            p.batch = N, p.height = H, p.width = W;
            p.nchw = layout == 0;
            p.out_type = ot;
            p.q_scale = 0.0173f;
            p.q_zero_point = ot == DType::kU8 ? 3 : -5;
            for (int c = 0; c < 3; ++c) {
              p.mean[c] = 100.f + 13.5f * c;
              p.scale[c] = 0.017f + 0.001f * c;
            }
            const int64_t img = p.nv12 ? H * W : H * W * p.in_channels;
            p.in_batch_stride = img;
            p.uv_batch_stride = H * W / 2;
            std::vector<uint8_t> in(N * img), uv(N * H * W / 2);
            for (auto& b : in) b = static_cast<uint8_t>(rng());
            for (auto& b : uv) b = static_cast<uint8_t>(rng());
            in[0] = 0, in[1] = 255;
            if (!uv.empty()) uv[0] = 0, uv[uv.size() - 1] = 255;
            const size_t esz = ot == DType::kF32 ? 4 : 1;
            const size_t bytes = static_cast<size_t>(N * H * W * p.out_channels) * esz;
            std::vector<uint8_t> a(bytes + 64, 0xAB), b(bytes + 64, 0xAB);
            kernels::ref::preprocess(in.data(), uv.data(), a.data(), p, 0, N * H);
            // Split the rows in two calls like parallel_for does.
            kernels::x86::preprocess(in.data(), uv.data(), b.data(), p, 0, 1);
            kernels::x86::preprocess(in.data(), uv.data(), b.data(), p, 1, N * H);
            ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0)
                << cs.rt << "->" << cs.train << " " << cs.range << " W=" << W << " H=" << H << " nchw=" << p.nchw
                << " type=" << static_cast<int>(ot);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 9 * 7 * 2 * 2 * 3);
}

// 224x224 nv12 -> rgb, mean/scale, int8 NCHW (the folded deployable path): equal results, timings printed.
TEST(PreprocessX86, Nv12Frame224Timing) {
  if (!kernels::x86::preprocess_available()) GTEST_SKIP() << "built without AVX-512 VBMI";
  PreprocessParams p;
  ASSERT_EQ(kernels::ref::preprocess_colour("nv12", "rgb", "regular", &p), "");
  p.height = p.width = 224;
  p.in_batch_stride = 224 * 224;
  p.uv_batch_stride = 224 * 112;
  p.out_type = DType::kI8;
  p.q_scale = 0.0208f;
  std::vector<uint8_t> y(224 * 224), uv(224 * 112), a(3 * 224 * 224), b(3 * 224 * 224);
  std::mt19937 rng(3);
  for (auto& v : y) v = static_cast<uint8_t>(rng());
  for (auto& v : uv) v = static_cast<uint8_t>(rng());
  auto time_ms = [&](bool vec, std::vector<uint8_t>* out) {
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < 5; ++r) {
      if (vec)
        kernels::x86::preprocess(y.data(), uv.data(), out->data(), p, 0, 224);
      else
        kernels::ref::preprocess(y.data(), uv.data(), out->data(), p, 0, 224);
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 5;
  };
  const double tr = time_ms(false, &a), tv = time_ms(true, &b);
  EXPECT_EQ(a, b);
  std::printf("nv12 224x224 -> rgb int8 NCHW: ref %.3f ms, avx512 %.3f ms (1 thread)\n", tr, tv);
}

}  // namespace
}  // namespace kaiwu
