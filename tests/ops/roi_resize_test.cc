// kaiwu.RoiResize (resizer input source) through GraphExecutor: against a straightforward double-precision bilinear
// crop-and-resize written here from the documented geometry (half-pixel centres over the ROI, clamp at the frame
// border; chroma planes at half resolution): every output byte within 0.625 of the real bilinear value (the op
// rounds 11-bit weights), at most 2% of them not equal to its rounding. Exact cases: identity ROI, constant frames, 2x integer downscale of a linear ramp.
// Odd frame sizes (gray), odd ROI corners, ROIs touching every border, 1x1 ROIs, up- and downscaling, batch 2,
// dynamic frame sizes in one executor, 1 vs 2 threads bit-identical, the AVX-512 kernel vs the scalar reference bit
// for bit, frames ending at a guard page (no read past the planes), and bad ROIs / shapes failing with messages
// that name the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <random>

#include <sys/mman.h>
#include <unistd.h>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

ir::ValueInfo vi(const std::string& name, DType dt, std::vector<ir::Dim> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = dt;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

// A model with one RoiResize node: inputs y, (uv), roi with dynamic frame dims; outputs oy, (ouv).
ir::Model roi_model(bool nv12, int64_t h, int64_t w) {
  ir::Model m;
  m.opsets[""] = 17;
  m.opsets["kaiwu"] = 1;
  using D = ir::Dim;
  m.graph.inputs.push_back(vi("y", DType::kU8, {D::symbol("N"), D::symbol("H"), D::symbol("W"), D::fixed(1)}));
  if (nv12) m.graph.inputs.push_back(vi("uv", DType::kU8, {D::symbol("N"), D::symbol("H2"), D::symbol("W2"), D::fixed(2)}));
  m.graph.inputs.push_back(vi("roi", DType::kI32, {D::symbol("N"), D::fixed(4)}));
  ir::Node n;
  n.name = "rr";
  n.op_type = "RoiResize";
  n.domain = "kaiwu";
  n.inputs = nv12 ? std::vector<std::string>{"y", "uv", "roi"} : std::vector<std::string>{"y", "roi"};
  n.outputs = nv12 ? std::vector<std::string>{"oy", "ouv"} : std::vector<std::string>{"oy"};
  n.attrs["height"] = ir::Attribute::make_int(h);
  n.attrs["width"] = ir::Attribute::make_int(w);
  n.attrs["mode"] = ir::Attribute::make_string(nv12 ? "nv12" : "gray");
  m.graph.nodes.push_back(n);
  for (const auto& o : n.outputs) {
    ir::ValueInfo v;
    v.name = o;
    m.graph.outputs.push_back(v);
  }
  return m;
}

std::unique_ptr<runtime::GraphExecutor> executor(bool nv12, int64_t h, int64_t w, int threads = 1, bool ref = false) {
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status s = runtime::GraphExecutor::create(roi_model(nv12, h, w), SessionOptions{threads, ref}, &ex);
  EXPECT_TRUE(s.ok()) << s.message();
  return ex;
}

Tensor u8(Shape s, unsigned seed) {
  Tensor t = Tensor::empty(DType::kU8, s);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  return t;
}

Tensor rois(const std::vector<std::array<int32_t, 4>>& r) {
  Tensor t = Tensor::empty(DType::kI32, {static_cast<int64_t>(r.size()), 4});
  for (size_t i = 0; i < r.size(); ++i) std::memcpy(t.data<int32_t>() + 4 * i, r[i].data(), 16);
  return t;
}

// The real-valued bilinear crop-and-resize of one plane (sub 1: luma, 2: chroma) of image n, in double.
std::vector<double> reference(const Tensor& plane, int64_t n, const int32_t* roi, int sub, int64_t oh, int64_t ow) {
  const int64_t fh = plane.shape()[1], fw = plane.shape()[2], ch = plane.shape()[3];
  const uint8_t* src = plane.data<uint8_t>() + n * fh * fw * ch;
  auto coord = [&](int64_t start, int64_t len, int64_t o, int64_t nout, int64_t size) {
    double p = (start + (o + 0.5) * double(len) / double(nout)) / sub - 0.5;
    return std::min(std::max(p, 0.0), double(size - 1));
  };
  std::vector<double> out;
  for (int64_t oy = 0; oy < oh; ++oy) {
    const double py = coord(roi[1], roi[3] - roi[1] + 1, oy, oh, fh);
    const int64_t y0 = static_cast<int64_t>(py), y1 = std::min(y0 + 1, fh - 1);
    const double fy = py - y0;
    for (int64_t ox = 0; ox < ow; ++ox) {
      const double px = coord(roi[0], roi[2] - roi[0] + 1, ox, ow, fw);
      const int64_t x0 = static_cast<int64_t>(px), x1 = std::min(x0 + 1, fw - 1);
      const double fx = px - x0;
      for (int64_t c = 0; c < ch; ++c) {
        auto at = [&](int64_t yy, int64_t xx) { return double(src[(yy * fw + xx) * ch + c]); };
        out.push_back((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
      }
    }
  }
  return out;
}

// Rounding to uint8 (0.5) plus the 11-bit weights (each off by <= 2^-12, times a neighbour difference <= 255, on
// both axes: <= 0.125).
constexpr double kTol = 0.5 + 0.125;

// Runs and compares every plane of every image with the reference; returns the number of bytes off by one.
int64_t check(runtime::GraphExecutor& ex, bool nv12, const Tensor& y, const Tensor& uv, const Tensor& roi, int64_t h,
              int64_t w, std::vector<Tensor>* outs_copy = nullptr) {
  NamedTensors feeds = {{"y", y}, {"roi", roi}};
  if (nv12) feeds.push_back({"uv", uv});
  std::vector<Tensor> outs;
  Status s = ex.run(feeds, nv12 ? std::vector<std::string>{"oy", "ouv"} : std::vector<std::string>{"oy"}, &outs);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return -1;
  const int64_t N = y.shape()[0];
  EXPECT_EQ(outs[0].shape(), (Shape{N, h, w, 1}));
  if (nv12) {
    EXPECT_EQ(outs[1].shape(), (Shape{N, h / 2, w / 2, 2}));
  }
  int64_t off = 0;
  for (size_t pl = 0; pl < outs.size(); ++pl) {
    const int sub = pl == 0 ? 1 : 2;
    const int64_t per = outs[pl].numel() / N;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<double> want = reference(pl == 0 ? y : uv, n, roi.data<int32_t>() + 4 * n, sub, h / sub, w / sub);
      const uint8_t* got = outs[pl].data<uint8_t>() + n * per;
      for (int64_t i = 0; i < per; ++i) {
        const double d = std::fabs(got[i] - want[i]);
        EXPECT_LE(d, kTol) << "plane " << pl << " image " << n << " byte " << i << ": " << int(got[i])
                                       << " vs " << want[i];
        if (d > kTol) return -1;
        off += got[i] != static_cast<uint8_t>(std::floor(want[i] + 0.5));
      }
    }
  }
  if (outs_copy) *outs_copy = std::move(outs);
  return off;
}

TEST(RoiResize, Nv12RandomRoisAgainstBilinearReference) {
  std::mt19937 rng(7);
  const int64_t h = 16, w = 24;
  auto ex = executor(true, h, w);
  ASSERT_TRUE(ex);
  int64_t off = 0, total = 0;
  for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{40, 62}, {10, 12}, {16, 24}, {2, 2}, {90, 34}}) {
    Tensor y = u8({1, fh, fw, 1}, unsigned(fh * 100 + fw)), uv = u8({1, fh / 2, fw / 2, 2}, unsigned(fh + fw));
    std::vector<std::array<int32_t, 4>> cases = {
        {0, 0, int32_t(fw - 1), int32_t(fh - 1)},                    // whole frame
        {0, 0, 0, 0},                                                // 1x1 at the top-left corner
        {int32_t(fw - 1), int32_t(fh - 1), int32_t(fw - 1), int32_t(fh - 1)}};  // 1x1 at the bottom-right corner
    for (int k = 0; k < 12; ++k) {
      int32_t l = int32_t(rng() % fw), r = int32_t(rng() % fw), t = int32_t(rng() % fh), b = int32_t(rng() % fh);
      if (k % 4 == 0) l = 0;                   // touching the left border
      if (k % 4 == 1) r = int32_t(fw - 1);     // right border
      if (k % 4 == 2) t = 0, b = int32_t(fh - 1);  // top and bottom
      cases.push_back({std::min(l, r), std::min(t, b), std::max(l, r), std::max(t, b)});
    }
    for (const auto& c : cases) {
      int64_t o = check(*ex, true, y, uv, rois({c}), h, w);
      ASSERT_GE(o, 0) << "frame " << fh << "x" << fw << " roi " << c[0] << "," << c[1] << "," << c[2] << "," << c[3];
      off += o;
      total += h * w * 3 / 2;
    }
  }
  std::printf("%lld of %lld bytes differ by one from round(real bilinear)\n", static_cast<long long>(off),
              static_cast<long long>(total));
  EXPECT_LT(off, total / 50);
}

TEST(RoiResize, GrayOddFramesAndBatch) {
  std::mt19937 rng(3);
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{7, 5}, {28, 28}, {1, 9}}) {
    auto ex = executor(false, h, w, 2);
    ASSERT_TRUE(ex);
    for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{13, 31}, {1, 1}, {57, 3}}) {
      Tensor y = u8({2, fh, fw, 1}, unsigned(fh * fw + h));
      std::vector<std::array<int32_t, 4>> r;
      for (int n = 0; n < 2; ++n) {
        int32_t l = int32_t(rng() % fw), rr = int32_t(rng() % fw), t = int32_t(rng() % fh), b = int32_t(rng() % fh);
        r.push_back({std::min(l, rr), std::min(t, b), std::max(l, rr), std::max(t, b)});
      }
      ASSERT_GE(check(*ex, false, y, Tensor(), rois(r), h, w), 0) << fh << "x" << fw;
    }
  }
}

TEST(RoiResize, ExactCases) {
  auto ex = executor(true, 8, 12);
  ASSERT_TRUE(ex);
  // Identity: the ROI is the whole 8x12 frame -> the output is the frame.
  Tensor y = u8({1, 8, 12, 1}, 1), uv = u8({1, 4, 6, 2}, 2);
  std::vector<Tensor> outs;
  ASSERT_EQ(check(*ex, true, y, uv, rois({{0, 0, 11, 7}}), 8, 12, &outs), 0);
  EXPECT_EQ(std::memcmp(outs[0].data<void>(), y.data<void>(), y.nbytes()), 0);
  EXPECT_EQ(std::memcmp(outs[1].data<void>(), uv.data<void>(), uv.nbytes()), 0);
  // Identity on a sub-window with even corners of a larger frame: the output is that window.
  Tensor big = u8({1, 20, 30, 1}, 4), buv = u8({1, 10, 15, 2}, 5);
  ASSERT_EQ(check(*ex, true, big, buv, rois({{6, 4, 17, 11}}), 8, 12, &outs), 0);
  for (int r = 0; r < 8; ++r)
    EXPECT_EQ(std::memcmp(outs[0].data<uint8_t>() + r * 12, big.data<uint8_t>() + (4 + r) * 30 + 6, 12), 0) << r;
  for (int r = 0; r < 4; ++r)
    EXPECT_EQ(std::memcmp(outs[1].data<uint8_t>() + r * 12, buv.data<uint8_t>() + ((2 + r) * 15 + 3) * 2, 12), 0) << r;
  // A constant frame stays constant whatever the ROI.
  Tensor cy = Tensor::empty(DType::kU8, {1, 6, 6, 1}), cuv = Tensor::empty(DType::kU8, {1, 3, 3, 2});
  std::memset(cy.data<void>(), 201, cy.nbytes());
  std::memset(cuv.data<void>(), 77, cuv.nbytes());
  ASSERT_EQ(check(*ex, true, cy, cuv, rois({{1, 3, 4, 4}}), 8, 12, &outs), 0);
  for (int64_t i = 0; i < outs[0].numel(); ++i) ASSERT_EQ(outs[0].data<uint8_t>()[i], 201);
  for (int64_t i = 0; i < outs[1].numel(); ++i) ASSERT_EQ(outs[1].data<uint8_t>()[i], 77);
}

TEST(RoiResize, ThreadsAgreeAndFrameSizeChanges) {
  auto one = executor(true, 64, 96, 1), two = executor(true, 64, 96, 2);
  ASSERT_TRUE(one && two);
  for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{480, 640}, {36, 50}, {480, 640}}) {
    Tensor y = u8({1, fh, fw, 1}, 9), uv = u8({1, fh / 2, fw / 2, 2}, 10);
    Tensor r = rois({{3, 1, int32_t(fw - 2), int32_t(fh - 1)}});
    std::vector<Tensor> a, b;
    ASSERT_GE(check(*one, true, y, uv, r, 64, 96, &a), 0);
    ASSERT_GE(check(*two, true, y, uv, r, 64, 96, &b), 0);
    for (int pl = 0; pl < 2; ++pl) EXPECT_EQ(std::memcmp(a[pl].data<void>(), b[pl].data<void>(), a[pl].nbytes()), 0);
  }
}

TEST(RoiResize, BadRoisAndShapesFailNamingTheInput) {
  auto ex = executor(true, 8, 8);
  ASSERT_TRUE(ex);
  Tensor y = u8({1, 10, 20, 1}, 1), uv = u8({1, 5, 10, 2}, 2);
  auto fails = [&](const Tensor& yy, const Tensor& uu, const Tensor& r, const std::string& what) {
    std::vector<Tensor> outs;
    Status s = ex->run({{"y", yy}, {"uv", uu}, {"roi", r}}, {"oy", "ouv"}, &outs);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
    std::printf("refused: %s\n", s.message().c_str());
  };
  fails(y, uv, rois({{0, 0, 20, 9}}), "'roi'");        // right == frame width
  fails(y, uv, rois({{-1, 0, 5, 5}}), "not inside");   // negative left
  fails(y, uv, rois({{0, 0, 5, 10}}), "10");           // bottom == frame height
  fails(y, uv, rois({{5, 0, 4, 5}}), "empty");         // right < left
  fails(y, uv, rois({{0, 6, 4, 5}}), "empty");         // bottom < top
  fails(y, u8({1, 5, 9, 2}, 2), rois({{0, 0, 1, 1}}), "'uv'");                // UV does not match Y
  fails(u8({1, 9, 20, 1}, 1), u8({1, 4, 10, 2}, 2), rois({{0, 0, 1, 1}}), "odd size");
  // The same executor still works afterwards.
  ASSERT_GE(check(*ex, true, y, uv, rois({{0, 0, 19, 9}}), 8, 8), 0);
  // Attribute errors name the node at creation.
  ir::Model m = roi_model(true, 7, 8);
  std::unique_ptr<runtime::GraphExecutor> bad;
  Status s = runtime::GraphExecutor::create(m, SessionOptions{1, false}, &bad);
  std::vector<Tensor> outs;
  if (s.ok()) s = bad->run({{"y", y}, {"uv", uv}, {"roi", rois({{0, 0, 1, 1}})}}, {"oy"}, &outs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("rr"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("even"), std::string::npos) << s.message();
}

// The AVX-512 kernel against the scalar reference (reference_only), bit for bit: output widths below, at and above
// 16 with tails, frames 2..70 pixels wide so the gathers reach the last column of the last row, ROIs touching the
// right and bottom borders, upscaling and downscaling, nv12 and gray.
TEST(RoiResize, VectorKernelMatchesReferenceBitExact) {
  std::mt19937 rng(21);
  int64_t compared = 0;
  for (bool nv12 : {true, false}) {
    for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {16, 16}, {10, 34}, {40, 50}, {6, 96}}) {
      auto vec = executor(nv12, h, w, 1, false), ref = executor(nv12, h, w, 1, true);
      ASSERT_TRUE(vec && ref);
      for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {4, 70}, {36, 18}, {64, 64}, {8, 34}}) {
        Tensor y = u8({1, fh, fw, 1}, unsigned(fh * 7 + fw)), uv = u8({1, fh / 2, fw / 2, 2}, unsigned(fh + fw * 3));
        for (int k = 0; k < 6; ++k) {
          int32_t l = int32_t(rng() % fw), r = int32_t(rng() % fw), t = int32_t(rng() % fh), b = int32_t(rng() % fh);
          if (k == 0) l = 0, r = int32_t(fw - 1), t = 0, b = int32_t(fh - 1);
          if (k == 1) r = int32_t(fw - 1), b = int32_t(fh - 1);
          if (k == 2) l = r = int32_t(fw - 1), t = b = int32_t(fh - 1);
          Tensor roi = rois({{std::min(l, r), std::min(t, b), std::max(l, r), std::max(t, b)}});
          NamedTensors feeds = {{"y", y}, {"roi", roi}};
          if (nv12) feeds.push_back({"uv", uv});
          std::vector<std::string> names = nv12 ? std::vector<std::string>{"oy", "ouv"} : std::vector<std::string>{"oy"};
          std::vector<Tensor> a, c;
          ASSERT_TRUE(vec->run(feeds, names, &a).ok());
          ASSERT_TRUE(ref->run(feeds, names, &c).ok());
          for (size_t i = 0; i < a.size(); ++i) {
            ASSERT_EQ(std::memcmp(a[i].data<void>(), c[i].data<void>(), a[i].nbytes()), 0)
                << "nv12 " << nv12 << " out " << h << "x" << w << " frame " << fh << "x" << fw << " k " << k;
            compared += a[i].numel();
          }
        }
      }
    }
  }
  std::printf("%lld bytes identical\n", static_cast<long long>(compared));
}

// Reads stay inside the planes: frames placed right before an inaccessible guard page (a read past the end of Y or
// UV would crash), ROIs ending in the last row and column, vector and reference kernels.
TEST(RoiResize, NoReadPastThePlanes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto guarded = [&](const Tensor& t, std::vector<void*>* maps) {
    const size_t n = t.nbytes(), pages = (n + page - 1) / page;
    void* m = mmap(nullptr, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    EXPECT_EQ(mprotect(static_cast<uint8_t*>(m) + pages * page, page, PROT_NONE), 0);
    uint8_t* at = static_cast<uint8_t*>(m) + pages * page - n;
    std::memcpy(at, t.data<void>(), n);
    maps->push_back(m);
    maps->push_back(reinterpret_cast<void*>((pages + 1) * page));
    return Tensor::view(t.dtype(), t.shape(), at);
  };
  for (bool ref : {false, true}) {
    for (bool nv12 : {true, false}) {
      auto ex = executor(nv12, 32, 48, 1, ref);
      ASSERT_TRUE(ex);
      for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{8, 18}, {30, 64}, {2, 34}}) {
        std::vector<void*> maps;
        Tensor y = guarded(u8({1, fh, fw, 1}, 3), &maps), uv = guarded(u8({1, fh / 2, fw / 2, 2}, 4), &maps);
        for (const auto& r : std::vector<std::array<int32_t, 4>>{{0, 0, int32_t(fw - 1), int32_t(fh - 1)},
                                                                 {int32_t(fw / 2), int32_t(fh / 2), int32_t(fw - 1), int32_t(fh - 1)},
                                                                 {int32_t(fw - 2), int32_t(fh - 2), int32_t(fw - 1), int32_t(fh - 1)}}) {
          ASSERT_GE(check(*ex, nv12, y, uv, rois({r}), 32, 48), 0);
        }
        for (size_t i = 0; i < maps.size(); i += 2) munmap(maps[i], reinterpret_cast<size_t>(maps[i + 1]));
      }
    }
  }
}

// Timing helper (not run by default): --gtest_also_run_disabled_tests --gtest_filter=RoiResize.DISABLED_Timing.
TEST(RoiResize, DISABLED_Timing) {
  for (int threads : {1, 2, 1}) {
    auto ex = executor(true, 224, 224, threads);
    ASSERT_TRUE(ex);
    const bool small = threads == 1 && std::getenv("KAIWU_SMALL_FRAME");
    Tensor y = small ? u8({1, 240, 320, 1}, 1) : u8({1, 1080, 1920, 1}, 1);
    Tensor uv = small ? u8({1, 120, 160, 2}, 2) : u8({1, 540, 960, 2}, 2);
    Tensor r = small ? rois({{10, 10, 229, 229}}) : rois({{300, 100, 1299, 999}});
    std::vector<Tensor> outs;
    ASSERT_TRUE(ex->run({{"y", y}, {"uv", uv}, {"roi", r}}, {"oy", "ouv"}, &outs).ok());
    const int reps = 200;
    auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    for (int i = 0; i < reps; ++i) ASSERT_TRUE(ex->run({{"y", y}, {"uv", uv}, {"roi", r}}, {"oy", "ouv"}, &outs).ok());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
    const double cpu_ms = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC / reps;
    std::printf("RoiResize %lldx%lld nv12 -> 224x224: %.4f ms wall, %.4f ms cpu per frame (%d threads)\n",
                static_cast<long long>(y.shape()[1]), static_cast<long long>(y.shape()[2]), ms, cpu_ms, threads);
  }
}

}  // namespace
}  // namespace kaiwu
