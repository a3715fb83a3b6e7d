// Op tests of kaiwu.Preprocess through GraphExecutor: BT.601 full-range and video-range colour conversion against
// the spec §6 formulas (double precision, tolerance 1e-3) on random and edge pixels (0, 255, odd chroma values and
// odd pixel positions sharing one chroma sample), rgb<->bgr, yuv444, gray and featuremap paths, mean/scale/std,
// NCHW/NHWC outputs, folded int8/uint8 quantization (bit-exact vs QuantizeLinear maths), the packed nv12 form,
// reference vs vector kernel (1 and 2 threads), and refusals that name the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "core/qmath.h"
#include "ir/graph.h"
#include "kaiwu/session.h"
#include "kernels/ref/preprocess.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

using Attrs = std::map<std::string, ir::Attribute>;
ir::Attribute S(const std::string& s) { return ir::Attribute::make_string(s); }
ir::Attribute F(std::vector<float> v) { return ir::Attribute::make_floats(std::move(v)); }

// Runs one kaiwu.Preprocess node "pre" on `feeds` (names in0, in1, ...).
Status run_pre(const Attrs& attrs, const std::vector<Tensor>& ins, Tensor* out, bool ref = false, int threads = 1) {
  ir::Model m;
  m.opsets[""] = 17;
  m.opsets["kaiwu"] = 1;
  ir::Node n;
  n.name = "pre";
  n.op_type = "Preprocess";
  n.domain = "kaiwu";
  n.attrs = attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < ins.size(); ++i) {
    ir::ValueInfo v;
    v.name = "in" + std::to_string(i);
    v.dtype = ins[i].dtype();
    v.has_shape = true;
    for (int64_t d : ins[i].shape()) v.dims.push_back(ir::Dim::fixed(d));
    m.graph.inputs.push_back(v);
    n.inputs.push_back(v.name);
    feeds.push_back({v.name, ins[i]});
  }
  n.outputs = {"y"};
  m.graph.nodes.push_back(n);
  ir::ValueInfo y;
  y.name = "y";
  m.graph.outputs.push_back(y);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{threads, ref}, &ex));
  std::vector<Tensor> outs;
  KW_RETURN_IF_ERROR(ex->run(feeds, {"y"}, &outs));
  *out = std::move(outs[0]);
  return Status::Ok();
}

Tensor u8(Shape s, unsigned seed) {
  Tensor t = Tensor::empty(DType::kU8, s);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  return t;
}

// Runs with the reference kernels and with the vector kernels (2 threads): the results must be identical.
Tensor run_both(const Attrs& attrs, const std::vector<Tensor>& ins) {
  Tensor a, b;
  Status s = run_pre(attrs, ins, &a, true, 1);
  EXPECT_TRUE(s.ok()) << s.message();
  s = run_pre(attrs, ins, &b, false, 2);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.dtype(), b.dtype());
  if (a.nbytes() == b.nbytes()) {
    EXPECT_EQ(std::memcmp(a.data<void>(), b.data<void>(), a.nbytes()), 0);
  }
  return a;
}

double clip255(double v) { return std::min(255.0, std::max(0.0, v)); }

// Spec §6 YUV -> RGB: full range, or video range expanded by 255/219 (Y - 16) and 255/224 (C - 128).
void yuv_to_rgb(double y, double u, double v, bool video, double rgb[3]) {
  if (video) {
    y = (y - 16) * 255.0 / 219.0;
    u = (u - 128) * 255.0 / 224.0 + 128;
    v = (v - 128) * 255.0 / 224.0 + 128;
  }
  rgb[0] = clip255(y + 1.402 * (v - 128));
  rgb[1] = clip255(y - 0.344136 * (u - 128) - 0.714136 * (v - 128));
  rgb[2] = clip255(y + 1.772 * (u - 128));
}

// An nv12 frame with edge values: Y 0/255 corners, chroma 0, 255 and odd values 1, 127, 129, 255.
void nv12_frame(int64_t H, int64_t W, unsigned seed, Tensor* y, Tensor* uv) {
  *y = u8({1, H, W, 1}, seed);
  *uv = u8({1, H / 2, W / 2, 2}, seed + 1);
  uint8_t* Y = y->data<uint8_t>();
  uint8_t* C = uv->data<uint8_t>();
  Y[0] = 0, Y[1] = 255, Y[W] = 255, Y[W + 1] = 0;
  const uint8_t edge[][2] = {{0, 0}, {255, 255}, {1, 255}, {255, 1}, {127, 129}, {129, 127}, {128, 128}};
  for (size_t i = 0; i < 7 && static_cast<int64_t>(i) < H * W / 4; ++i) C[2 * i] = edge[i][0], C[2 * i + 1] = edge[i][1];
}

void check_nv12_to_rgb(bool video, bool bgr) {
  const int64_t H = 6, W = 22;
  Tensor y, uv;
  nv12_frame(H, W, video ? 11 : 3, &y, &uv);
  Attrs a = {{"input_type_rt", S("nv12")}, {"input_type_train", S(bgr ? "bgr" : "rgb")},
             {"input_space_and_range", S(video ? "bt601_video" : "regular")}, {"output_layout", S("NCHW")}};
  Tensor out = run_both(a, {y, uv});
  ASSERT_EQ(out.shape(), (Shape{1, 3, H, W}));
  const float* o = out.data<float>();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w) {
      const uint8_t* c = uv.data<uint8_t>() + ((h / 2) * (W / 2) + w / 2) * 2;
      double rgb[3];
      yuv_to_rgb(y.data<uint8_t>()[h * W + w], c[0], c[1], video, rgb);
      for (int ch = 0; ch < 3; ++ch)
        ASSERT_NEAR(o[ch * H * W + h * W + w], rgb[bgr ? 2 - ch : ch], 1e-3) << "h=" << h << " w=" << w << " c=" << ch;
    }
}

TEST(Preprocess, Nv12ToRgbFullRangeMatchesBt601) { check_nv12_to_rgb(false, false); }
TEST(Preprocess, Nv12ToBgrFullRange) { check_nv12_to_rgb(false, true); }
TEST(Preprocess, Nv12ToRgbVideoRangeMatchesBt601) { check_nv12_to_rgb(true, false); }

// Round trip through the spec's forward formulas: rgb -> yuv (rounded to uint8) -> op -> ~rgb.
TEST(Preprocess, ForwardFormulasRoundTrip) {
  for (bool video : {false, true}) {
    const int64_t H = 2, W = 2 * 64;
    Tensor y = Tensor::empty(DType::kU8, {1, H, W, 1}), uv = Tensor::empty(DType::kU8, {1, H / 2, W / 2, 2});
    std::mt19937 rng(5);
    std::vector<double> rgb_ref(W * 3);
    for (int64_t p = 0; p < W / 2; ++p) {  // one colour per 2x2 block so subsampling loses nothing
      double r = rng() % 256, g = rng() % 256, b = rng() % 256;
      if (p == 0) r = g = b = 0;
      if (p == 1) r = g = b = 255;
      double Y, U, V;
      if (video) {
        Y = .257 * r + .504 * g + .098 * b + 16, U = -.148 * r - .291 * g + .439 * b + 128, V = .439 * r - .368 * g - .071 * b + 128;
      } else {
        Y = .299 * r + .587 * g + .114 * b, U = -.169 * r - .331 * g + .5 * b + 128, V = .5 * r - .419 * g - .081 * b + 128;
      }
      auto q = [](double v) { return static_cast<uint8_t>(clip255(std::nearbyint(v))); };
      for (int64_t h = 0; h < H; ++h) y.data<uint8_t>()[h * W + 2 * p] = y.data<uint8_t>()[h * W + 2 * p + 1] = q(Y);
      uv.data<uint8_t>()[2 * p] = q(U), uv.data<uint8_t>()[2 * p + 1] = q(V);
      for (int k = 0; k < 2; ++k) rgb_ref[(2 * p + k) * 3] = r, rgb_ref[(2 * p + k) * 3 + 1] = g, rgb_ref[(2 * p + k) * 3 + 2] = b;
    }
    Attrs a = {{"input_type_rt", S("nv12")}, {"input_type_train", S("rgb")},
               {"input_space_and_range", S(video ? "bt601_video" : "regular")}};
    Tensor out = run_both(a, {y, uv});
    ASSERT_EQ(out.shape(), (Shape{1, H, W, 3}));  // NHWC by default
    // Rounding Y, U, V to integers costs up to ~0.5 * (1 + 1.772) (full) or ~0.5 * 1.164 * (1 + 2.017) (video).
    const double tol = video ? 2.8 : 2.0;
    for (int64_t i = 0; i < W * 3; ++i) ASSERT_NEAR(out.data<float>()[i], rgb_ref[i], tol) << "video=" << video << " i=" << i;
  }
}

// kernels::ref::rgb_to_nv12 (the host frame maker) against the forward formulas, then back through the op.
TEST(Preprocess, RgbToNv12FrameMakerRoundTrip) {
  const int64_t H = 4, W = 10;
  Tensor img = u8({H, W, 3}, 77);
  img.data<uint8_t>()[0] = img.data<uint8_t>()[1] = img.data<uint8_t>()[2] = 255;
  for (bool video : {false, true}) {
    for (bool bgr : {false, true}) {
      Tensor y = Tensor::empty(DType::kU8, {1, H, W, 1}), uv = Tensor::empty(DType::kU8, {1, H / 2, W / 2, 2});
      kernels::ref::rgb_to_nv12(img.data<uint8_t>(), H, W, bgr, video, y.data<uint8_t>(), uv.data<uint8_t>());
      for (int64_t i = 0; i < H * W; ++i) {
        const uint8_t* p = img.data<uint8_t>() + 3 * i;
        const double r = p[bgr ? 2 : 0], g = p[1], b = p[bgr ? 0 : 2];
        const double Y = video ? .257 * r + .504 * g + .098 * b + 16 : .299 * r + .587 * g + .114 * b;
        ASSERT_NEAR(y.data<uint8_t>()[i], clip255(Y), 0.5 + 1e-9);
        const int64_t h = i / W, w = i % W;
        if (h % 2 || w % 2) continue;
        const uint8_t* c = uv.data<uint8_t>() + ((h / 2) * (W / 2) + w / 2) * 2;
        const double U = video ? -.148 * r - .291 * g + .439 * b + 128 : -.169 * r - .331 * g + .5 * b + 128;
        const double V = video ? .439 * r - .368 * g - .071 * b + 128 : .5 * r - .419 * g - .081 * b + 128;
        ASSERT_NEAR(c[0], clip255(U), 0.5 + 1e-9);
        ASSERT_NEAR(c[1], clip255(V), 0.5 + 1e-9);
      }
      // Back to the same colour order: exact colours at the sampled (even, even) pixels within the rounding error.
      Tensor o = run_both({{"input_type_rt", S("nv12")}, {"input_type_train", S(bgr ? "bgr" : "rgb")},
                           {"input_space_and_range", S(video ? "bt601_video" : "regular")}},
                          {y, uv});
      for (int64_t h = 0; h < H; h += 2)
        for (int64_t w = 0; w < W; w += 2)
          for (int k = 0; k < 3; ++k)
            ASSERT_NEAR(o.data<float>()[(h * W + w) * 3 + k], img.data<uint8_t>()[(h * W + w) * 3 + k], video ? 2.8 : 2.0)
                << "video=" << video << " bgr=" << bgr;
    }
  }
}

TEST(Preprocess, Yuv444ToRgbAndNv12ToYuv444) {
  const int64_t H = 4, W = 18;
  Tensor yuv = u8({1, H, W, 3}, 21);
  Tensor out = run_both({{"input_type_rt", S("yuv444")}, {"input_type_train", S("rgb")}}, {yuv});
  for (int64_t i = 0; i < H * W; ++i) {
    const uint8_t* p = yuv.data<uint8_t>() + 3 * i;
    double rgb[3];
    yuv_to_rgb(p[0], p[1], p[2], false, rgb);
    for (int c = 0; c < 3; ++c) ASSERT_NEAR(out.data<float>()[3 * i + c], rgb[c], 1e-3);
  }
  // nv12 -> yuv444: nearest 2x upsampling of the chroma, values unchanged (full range) or expanded (video).
  Tensor y, uv;
  nv12_frame(H, W, 9, &y, &uv);
  for (bool video : {false, true}) {
    Tensor o = run_both({{"input_type_rt", S("nv12")}, {"input_type_train", S("yuv444")},
                         {"input_space_and_range", S(video ? "bt601_video" : "regular")}},
                        {y, uv});
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const uint8_t* c = uv.data<uint8_t>() + ((h / 2) * (W / 2) + w / 2) * 2;
        double e[3] = {double(y.data<uint8_t>()[h * W + w]), double(c[0]), double(c[1])};
        if (video) {
          e[0] = clip255((e[0] - 16) * 255 / 219);
          for (int k = 1; k < 3; ++k) e[k] = clip255((e[k] - 128) * 255 / 224 + 128);
        }
        for (int k = 0; k < 3; ++k) ASSERT_NEAR(o.data<float>()[(h * W + w) * 3 + k], e[k], video ? 1e-3 : 0.0);
      }
  }
}

TEST(Preprocess, RgbBgrSwapMeanScaleNchwExact) {
  const int64_t H = 5, W = 7;
  Tensor x = u8({2, H, W, 3}, 4);
  const float mean[3] = {123.675f, 116.28f, 103.53f}, scale[3] = {0.01712475f, 0.017507f, 0.01742919f};
  for (const char* train : {"rgb", "bgr"}) {
    Tensor o = run_both({{"input_type_rt", S("rgb")}, {"input_type_train", S(train)}, {"output_layout", S("NCHW")},
                         {"mean", F({mean[0], mean[1], mean[2]})}, {"scale", F({scale[0], scale[1], scale[2]})}},
                        {x});
    ASSERT_EQ(o.shape(), (Shape{2, 3, H, W}));
    const bool swap = std::string(train) == "bgr";
    for (int64_t n = 0; n < 2; ++n)
      for (int c = 0; c < 3; ++c)
        for (int64_t i = 0; i < H * W; ++i) {
          const float v = x.data<uint8_t>()[(n * H * W + i) * 3 + (swap ? 2 - c : c)];
          ASSERT_EQ(o.data<float>()[(n * 3 + c) * H * W + i], (v - mean[c]) * scale[c]);  // bit-exact numpy maths
        }
  }
  // std: scale = 1/std; a scalar mean broadcasts.
  Tensor o = run_both({{"input_type_rt", S("bgr")}, {"input_type_train", S("rgb")}, {"mean", F({128.f})},
                       {"std", F({58.395f, 57.12f, 57.375f})}},
                      {x});
  const float sd[3] = {58.395f, 57.12f, 57.375f};
  for (int64_t i = 0; i < H * W; ++i)
    for (int c = 0; c < 3; ++c)
      ASSERT_EQ(o.data<float>()[i * 3 + c],
                (float(x.data<uint8_t>()[i * 3 + 2 - c]) - 128.f) * static_cast<float>(1.0 / double(sd[c])));
}

TEST(Preprocess, GrayAndQuantizedOutputs) {
  const int64_t H = 3, W = 19;
  Tensor g = u8({1, H, W, 1}, 8);
  g.data<uint8_t>()[0] = 0, g.data<uint8_t>()[1] = 255;
  Tensor o = run_both({{"input_type_rt", S("gray")}, {"input_type_train", S("gray")}, {"mean", F({33.3f})},
                       {"scale", F({1.f / 78.f})}, {"output_layout", S("NCHW")}},
                      {g});
  ASSERT_EQ(o.shape(), (Shape{1, 1, H, W}));
  for (int64_t i = 0; i < H * W; ++i) ASSERT_EQ(o.data<float>()[i], (float(g.data<uint8_t>()[i]) - 33.3f) * (1.f / 78.f));
  // Folded quantization: exactly QuantizeLinear's maths applied to the float result.
  for (const char* dt : {"int8", "uint8"}) {
    const bool s8 = std::string(dt) == "int8";
    const float qs = 0.0123f;
    const int zp = s8 ? -3 : 120;
    Attrs base = {{"input_type_rt", S("rgb")}, {"input_type_train", S("bgr")}, {"mean", F({120.f, 110.f, 100.f})},
                  {"scale", F({0.0171f})}};
    Tensor x = u8({1, H, W, 3}, 12);
    for (const char* layout : {"NCHW", "NHWC"}) {
      Attrs fa = base, qa = base;
      fa["output_layout"] = qa["output_layout"] = S(layout);
      qa["output_scale"] = ir::Attribute::make_float(qs);
      qa["output_zero_point"] = ir::Attribute::make_int(zp);
      qa["output_dtype"] = S(dt);
      Tensor f = run_both(fa, {x}), q = run_both(qa, {x});
      ASSERT_EQ(q.dtype(), s8 ? DType::kI8 : DType::kU8);
      const qmath::QRange r = {s8 ? -128 : 0, s8 ? 127 : 255};
      int saturated = 0;
      for (int64_t i = 0; i < f.numel(); ++i) {
        const int32_t want = qmath::quantize_value(f.data<float>()[i], qs, zp, r);
        const int32_t got = s8 ? q.data<int8_t>()[i] : q.data<uint8_t>()[i];
        ASSERT_EQ(got, want) << dt << " " << layout << " i=" << i;
        saturated += want == r.qmin || want == r.qmax;
      }
      EXPECT_GT(saturated, 0);  // the range saturates at both ends for these parameters
    }
  }
}

TEST(Preprocess, FeaturemapPassesThrough) {
  Tensor x = Tensor::empty(DType::kF32, {1, 4, 3, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 0.37f * float(i) - 7.f;
  Tensor o = run_both({{"input_type_rt", S("featuremap")}, {"input_type_train", S("featuremap")}}, {x});
  ASSERT_EQ(o.shape(), x.shape());
  ASSERT_EQ(std::memcmp(o.data<void>(), x.data<void>(), x.nbytes()), 0);
  Tensor q = run_both({{"input_type_rt", S("featuremap")}, {"input_type_train", S("featuremap")},
                       {"output_scale", ir::Attribute::make_float(0.05f)}, {"output_zero_point", ir::Attribute::make_int(2)}},
                      {x});
  for (int64_t i = 0; i < x.numel(); ++i)
    ASSERT_EQ(q.data<int8_t>()[i], qmath::quantize_value(x.data<float>()[i], 0.05f, 2, {-128, 127}));
}

TEST(Preprocess, PackedNv12EqualsPlanes) {
  const int64_t H = 4, W = 34;
  Tensor y, uv;
  nv12_frame(H, W, 31, &y, &uv);
  Tensor packed = Tensor::empty(DType::kU8, {1, H * 3 / 2, W, 1});
  std::memcpy(packed.data<uint8_t>(), y.data<uint8_t>(), H * W);
  std::memcpy(packed.data<uint8_t>() + H * W, uv.data<uint8_t>(), H * W / 2);
  Attrs a = {{"input_type_rt", S("nv12")}, {"input_type_train", S("rgb")}, {"output_layout", S("NCHW")}};
  Tensor p1 = run_both(a, {y, uv}), p2 = run_both(a, {packed});
  ASSERT_EQ(p1.shape(), p2.shape());
  ASSERT_EQ(std::memcmp(p1.data<void>(), p2.data<void>(), p1.nbytes()), 0);
}

TEST(Preprocess, RefusesIllegalInputsNamingTheNode) {
  auto refused = [](const Attrs& a, const std::vector<Tensor>& ins, const std::string& what) {
    Tensor o;
    Status s = run_pre(a, ins, &o);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_NE(s.message().find("'pre'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  };
  Attrs nv = {{"input_type_rt", S("nv12")}, {"input_type_train", S("rgb")}};
  refused(nv, {u8({1, 5, 6, 1}, 1), u8({1, 2, 3, 2}, 1)}, "odd size");
  refused(nv, {u8({1, 4, 6, 1}, 1), u8({1, 2, 2, 2}, 1)}, "UV input");
  refused(nv, {u8({1, 9, 7, 1}, 1)}, "odd size");  // packed: H = 6, W = 7
  refused({{"input_type_rt", S("gray")}, {"input_type_train", S("rgb")}}, {u8({1, 4, 4, 1}, 1)}, "illegal type pair");
  refused({{"input_type_rt", S("rgb")}, {"input_type_train", S("gray")}}, {u8({1, 4, 4, 3}, 1)}, "illegal type pair");
  refused({{"input_type_rt", S("rgb")}, {"input_type_train", S("yuv444")}}, {u8({1, 4, 4, 3}, 1)}, "illegal type pair");
  refused({{"input_type_rt", S("nv12")}, {"input_type_train", S("featuremap")}}, {u8({1, 4, 4, 1}, 1)}, "illegal type pair");
  refused({{"input_type_rt", S("rgb")}, {"input_type_train", S("rgb")}, {"input_space_and_range", S("bt601_video")}},
          {u8({1, 4, 4, 3}, 1)}, "bt601_video");
  refused({{"input_type_rt", S("rgb")}, {"input_type_train", S("rgb")}, {"mean", F({1.f, 2.f})}}, {u8({1, 4, 4, 3}, 1)},
          "mean needs 1 or 3 values");
  refused({{"input_type_rt", S("rgb")}, {"input_type_train", S("rgb")}}, {u8({1, 4, 4, 1}, 1)}, "[N,H,W,3]");
  Tensor fm = Tensor::zeros(DType::kF32, {1, 3, 4, 4});
  refused({{"input_type_rt", S("featuremap")}, {"input_type_train", S("featuremap")}, {"mean", F({1.f})}}, {fm},
          "not allowed on a featuremap");
}

}  // namespace
}  // namespace kaiwu
