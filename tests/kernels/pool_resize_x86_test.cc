// Differential tests of the optimized pooling and resize kernels against the scalar reference: odd shapes, pads,
// strides, dilations, ceil-mode windows, count_include_pad, NCHW and NHWC (pooling), every resize mode and
// coordinate transform, antialias, exclude_outside; and 1 vs 2 threads. Max pooling and nearest resize must be
// identical; averages and interpolation within 1e-5 relative + 1e-6 absolute (float vs double accumulation).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/pool.h"
#include "kernels/ref/resize.h"
#include "kernels/x86/pool.h"
#include "kernels/x86/resize.h"
#include "kernel_test_util.h"

namespace kaiwu::kernels {
namespace {

// Inputs uniform in [-2, 2).
std::vector<float> random_vec(int64_t n, unsigned seed) { return test::random_vec(n, seed, -2.f, 2.f); }

// rtol 0: identical; else within rtol relative + 1e-6 absolute.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, const std::string& what) {
  test::expect_close(got, want, rtol, rtol ? 1e-6 : 0.0, what);
}

PoolParams pool(int64_t n, int64_t c, std::vector<int64_t> in, std::vector<int64_t> k, std::vector<int64_t> s,
                std::vector<int64_t> d, std::vector<int64_t> pb, std::vector<int64_t> pe, bool ceil_mode) {
  PoolParams p;
  p.batch = n;
  p.channels = c;
  test::set_window(&p, in, k, s, d, pb, pe);
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t span = in[i] + pb[i] + pe[i] - (k[i] - 1) * d[i] - 1;
    int64_t o = (ceil_mode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
    if (ceil_mode && (o - 1) * s[i] >= in[i] + pb[i]) --o;
    p.out_dims.push_back(o);
  }
  return p;
}

std::vector<PoolParams> pool_cases() {
  return {
      pool(1, 64, {112, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false),  // ResNet stem max pool
      pool(2, 3, {7, 9}, {2, 2}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true),        // ceil mode, partial windows
      pool(1, 5, {10, 11}, {3, 2}, {1, 2}, {2, 1}, {2, 0}, {1, 1}, false),     // dilation, asymmetric pads
      pool(1, 17, {6, 6}, {5, 5}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, true),       // big pads + ceil
      pool(3, 2, {15}, {4}, {3}, {1}, {1}, {2}, true),                         // 1-D
      pool(1, 32, {5, 5}, {5, 5}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false),      // window == input
      pool(1, 7, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false),       // stride 1 "same"
  };
}

// NCHW <-> NHWC for a [N, C, spatial] tensor.
std::vector<float> relayout(const std::vector<float>& v, int64_t n, int64_t c, int64_t sp, bool to_nhwc) {
  std::vector<float> o(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t s = 0; s < sp; ++s) {
        int64_t cf = (b * c + ch) * sp + s, cl = (b * sp + s) * c + ch;
        if (to_nhwc) o[cl] = v[cf];
        else o[cf] = v[cl];
      }
  return o;
}

int64_t numel(const std::vector<int64_t>& d) { return test::prod(d); }

TEST(PoolX86, MatchesReferenceBothLayouts) {
  unsigned seed = 1;
  for (PoolParams p : pool_cases()) {
    const int64_t isp = numel(p.in_dims), osp = numel(p.out_dims);
    auto x = random_vec(p.batch * p.channels * isp, seed++);
    for (bool include_pad : {false, true}) {
      p.count_include_pad = include_pad;
      std::vector<float> want_max(p.batch * p.channels * osp), want_avg(want_max.size());
      p.layout = ActLayout::kNCHW;
      ref::max_pool<float>(p, x.data(), want_max.data(), nullptr, false);
      ref::avg_pool_f32(p, x.data(), want_avg.data());
      for (ActLayout l : {ActLayout::kNCHW, ActLayout::kNHWC}) {
        const bool cl = l == ActLayout::kNHWC;
        PoolParams q = p;
        q.layout = l;
        auto xin = cl ? relayout(x, p.batch, p.channels, isp, true) : x;
        std::vector<float> ym(want_max.size()), ya(want_max.size()), rm(want_max.size()), ra(want_max.size());
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          ASSERT_TRUE(x86::max_pool_f32(q, xin.data(), ym.data()));
          ASSERT_TRUE(x86::avg_pool_f32(q, xin.data(), ya.data()));
          set_num_threads(1);
          // The reference itself in this layout.
          ref::max_pool<float>(q, xin.data(), rm.data(), nullptr, false);
          ref::avg_pool_f32(q, xin.data(), ra.data());
          auto back = [&](const std::vector<float>& v) { return cl ? relayout(v, p.batch, p.channels, osp, false) : v; };
          std::string what = std::string(cl ? "nhwc" : "nchw") + " case " + std::to_string(seed) + " threads " +
                             std::to_string(threads) + (include_pad ? " include_pad" : "");
          expect_close(back(ym), want_max, 0, "max " + what);
          expect_close(back(rm), want_max, 0, "ref max " + what);
          expect_close(back(ya), want_avg, 1e-5, "avg " + what);
          expect_close(back(ra), want_avg, 1e-6, "ref avg " + what);
        }
      }
    }
  }
}

TEST(PoolX86, ThreeDimensionalIsLeftToTheReference) {
  PoolParams p = pool(1, 2, {4, 4, 4}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, false);
  std::vector<float> x(2 * 64), y(2 * 8);
  EXPECT_FALSE(x86::max_pool_f32(p, x.data(), y.data()));
  EXPECT_FALSE(x86::avg_pool_f32(p, x.data(), y.data()));
}

TEST(PoolX86, GlobalPoolsMatchReference) {
  unsigned seed = 50;
  for (auto dims : std::vector<std::vector<int64_t>>{{2, 64, 49}, {1, 3, 1}, {1, 2048, 49}, {3, 5, 37}, {1, 1, 1000}}) {
    const int64_t n = dims[0], c = dims[1], sp = dims[2];
    auto x = random_vec(n * c * sp, seed++);
    std::vector<float> wa(n * c), wm(n * c);
    ref::global_avg_pool_f32(n, c, sp, ActLayout::kNCHW, x.data(), wa.data());
    ref::global_max_pool<float>(n, c, sp, ActLayout::kNCHW, x.data(), wm.data());
    auto xl = relayout(x, n, c, sp, true);
    for (ActLayout l : {ActLayout::kNCHW, ActLayout::kNHWC}) {
      const float* xin = l == ActLayout::kNHWC ? xl.data() : x.data();
      std::vector<float> ya(n * c), ym(n * c), ra(n * c), rm(n * c);
      x86::global_avg_pool_f32(n, c, sp, l, xin, ya.data());
      x86::global_max_pool_f32(n, c, sp, l, xin, ym.data());
      ref::global_avg_pool_f32(n, c, sp, l, xin, ra.data());
      ref::global_max_pool<float>(n, c, sp, l, xin, rm.data());
      std::string what = l == ActLayout::kNHWC ? "nhwc" : "nchw";
      expect_close(ya, wa, 1e-5, "global avg " + what);
      expect_close(ra, wa, 1e-6, "ref global avg " + what);
      expect_close(ym, wm, 0, "global max " + what);
      expect_close(rm, wm, 0, "ref global max " + what);
    }
  }
}

ResizeParams resize(std::vector<int64_t> in, std::vector<int64_t> out, ResizeMode m, ResizeCoord c) {
  ResizeParams p;
  p.in_shape = in;
  p.out_shape = out;
  for (size_t i = 0; i < in.size(); ++i) {
    p.scales.push_back(static_cast<double>(out[i]) / static_cast<double>(in[i]));
    p.roi_start.push_back(0.0);
    p.roi_end.push_back(1.0);
  }
  p.mode = m;
  p.coord = c;
  return p;
}

TEST(ResizeX86, MatchesReferenceOverModes) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{1, 3, 8, 8}, {1, 3, 16, 16}},    // 2x up
      {{2, 4, 13, 7}, {2, 4, 5, 19}},    // mixed down/up, odd
      {{1, 2, 20, 20}, {1, 2, 7, 6}},    // down
      {{3, 9, 11}, {3, 9, 4}},           // rank 3: only the last axis changes
      {{1, 1, 5, 6}, {1, 1, 5, 6}},      // identity
  };
  const ResizeCoord coords[] = {ResizeCoord::kHalfPixel, ResizeCoord::kPytorchHalfPixel, ResizeCoord::kAlignCorners,
                                ResizeCoord::kAsymmetric, ResizeCoord::kHalfPixelSymmetric,
                                ResizeCoord::kTfHalfPixelForNn};
  unsigned seed = 100;
  for (const auto& [in, out] : shapes)
    for (ResizeMode m : {ResizeMode::kNearest, ResizeMode::kLinear, ResizeMode::kCubic})
      for (ResizeCoord c : coords)
        for (int variant = 0; variant < 3; ++variant) {
          ResizeParams p = resize(in, out, m, c);
          p.exclude_outside = variant == 1;
          p.antialias = variant == 2 && m != ResizeMode::kNearest;
          p.nearest = variant == 1 ? ResizeNearest::kCeil : ResizeNearest::kRoundPreferFloor;
          auto x = random_vec(numel(in), seed++);
          std::vector<float> want(numel(out)), got(numel(out));
          ref::resize<float>(p, x.data(), want.data());
          std::unique_ptr<x86::Resize2d> k;
          ASSERT_TRUE(x86::Resize2d::create(p, &k));
          for (int threads : {1, 2}) {
            set_num_threads(threads);
            k->run(x.data(), got.data());
            set_num_threads(1);
            expect_close(got, want, m == ResizeMode::kNearest ? 0 : 1e-5,
                         "resize mode " + std::to_string(int(m)) + " coord " + std::to_string(int(c)) + " variant " +
                             std::to_string(variant) + " threads " + std::to_string(threads));
          }
        }
}

TEST(ResizeX86, DeclinesWhatItDoesNotHandle) {
  std::unique_ptr<x86::Resize2d> k;
  // Resizing a leading axis.
  EXPECT_FALSE(x86::Resize2d::create(resize({2, 3, 4, 4}, {4, 3, 4, 4}, ResizeMode::kLinear, ResizeCoord::kHalfPixel), &k));
  // tf_crop_and_resize with samples outside the roi.
  ResizeParams p = resize({1, 1, 4, 4}, {1, 1, 3, 3}, ResizeMode::kLinear, ResizeCoord::kTfCropAndResize);
  p.roi_start = {0, 0, -0.5, 0.4};
  p.roi_end = {1, 1, 0.6, 1.3};
  EXPECT_FALSE(x86::Resize2d::create(p, &k));
  EXPECT_FALSE(x86::Resize2d::create(resize({5}, {9}, ResizeMode::kLinear, ResizeCoord::kHalfPixel), &k));
}

}  // namespace
}  // namespace kaiwu::kernels
