// Issue 4 acceptance 3 (input_source: resizer). A small rgb-trained CNN (3x32x32, NCHW, ImageNet mean/scale in the
// yaml) is built here, saved as ONNX and compiled with input_type_rt nv12 + input_source {img: resizer}. The
// deployable P.kwm then takes img_y [1,Hf,Wf,1] + img_uv [1,Hf/2,Wf/2,2] frames of any even size and img_roi
// (left, top, right, bottom). For random ROIs (touching each frame border, smaller and larger than 32x32, odd
// corners) on frames smaller and larger than the model input, its output is compared with P_ptq_model.onnx run on
// a reference computed in double (tests/resizer_reference.h): bilinear crop-and-resize of the Y and UV planes (half-pixel centres over the
// ROI, clamped at the frame border, rounded to uint8 as a resizer outputs), 2x nearest chroma upsampling, BT.601
// full-range YUV->RGB clipped to 0..255, (v - mean) * scale, NCHW.
// Tolerance (quantization): the only differences are +-1 rounding of resized bytes (11-bit weights) and of the int8
// input at ties, so every output must have cosine >= 0.999 with the reference and the same argmax when the
// reference's top-1 margin exceeds 2% of its output range; mean cosine >= 0.9995. Also: the deployable's signature,
// a bad ROI refused with a message naming img_roi, and `kaiwu exec infer --roi` (when the CLI is built).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/npy.h"
#include "frontend/onnx/onnx_export.h"
#include "compiler/preprocess.h"
#include "kaiwu/compile.h"
#include "kaiwu/session.h"
#include "kernels/ref/preprocess.h"
#include "model_builder.h"
#include "compile_util.h"
#include "resizer_reference.h"
#include "test_util.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;

const double kMean[3] = {123.675, 116.28, 103.53}, kScale[3] = {0.01712475, 0.017507, 0.01742919};
constexpr int64_t kH = 32, kW = 32;

Tensor rand_f32(Shape s, unsigned seed, float amp) {
  Tensor t = Tensor::empty(DType::kF32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-amp, amp);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

// img [1,3,32,32] -> Conv 3x3 (8) + Relu -> Conv 3x3 s2 (16) + Relu -> GlobalAveragePool -> Flatten -> Gemm (10).
ir::Model tiny_cnn() {
  test::ModelBuilder b(13);
  b.input("img", {1, 3, kH, kW});
  b.constant("w1", rand_f32({8, 3, 3, 3}, 1, 0.3f));
  b.constant("b1", rand_f32({8}, 2, 0.1f));
  b.constant("w2", rand_f32({16, 8, 3, 3}, 3, 0.2f));
  b.constant("b2", rand_f32({16}, 4, 0.1f));
  b.constant("w3", rand_f32({10, 16}, 5, 0.5f));
  b.constant("b3", rand_f32({10}, 6, 0.1f));
  b.node("conv1", "Conv", {"img", "w1", "b1"}, {"c1"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("relu1", "Relu", {"c1"}, {"r1"});
  ir::Node& c2 = b.node("conv2", "Conv", {"r1", "w2", "b2"}, {"c2"});
  c2.attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  c2.attrs["strides"] = ir::Attribute::make_ints({2, 2});
  b.node("relu2", "Relu", {"c2"}, {"r2"});
  b.node("gap", "GlobalAveragePool", {"r2"}, {"g"});
  b.node("flat", "Flatten", {"g"}, {"f"});
  b.node("fc", "Gemm", {"f", "w3", "b3"}, {"logits"}).attrs["transB"] = ir::Attribute::make_int(1);
  b.output("logits", {1, 10});
  return b.m;
}

// A smooth rgb frame [h, w, 3] (low-frequency colour waves plus a little noise), like camera content.
std::vector<uint8_t> smooth_rgb(int64_t h, int64_t w, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  double f[3][4];
  for (auto& c : f)
    for (double& v : c) v = u(rng);
  std::vector<uint8_t> img(h * w * 3);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        double v = 128 + 90 * std::sin(6.0 * f[c][0] * x / w * 3 + 6 * f[c][1]) * std::cos(6.0 * f[c][2] * y / h * 3 + 6 * f[c][3]) +
                   8 * (u(rng) - 0.5);
        img[(y * w + x) * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
  return img;
}

Tensor normalize(const std::vector<double>& rgb) { return test::normalize_nchw(rgb, kH, kW, kMean, kScale); }

std::vector<double> reference_rgb(const Tensor& y, const Tensor& uv, const int32_t* roi) {
  return test::resizer_rgb(y, uv, roi, kH, kW);
}

struct Frame {
  Tensor y, uv;
};

Frame nv12_frame(int64_t h, int64_t w, unsigned seed) {
  std::vector<uint8_t> rgb = smooth_rgb(h, w, seed);
  Frame f{Tensor::empty(DType::kU8, {1, h, w, 1}), Tensor::empty(DType::kU8, {1, h / 2, w / 2, 2})};
  kernels::ref::rgb_to_nv12(rgb.data(), h, w, false, false, f.y.data<uint8_t>(), f.uv.data<uint8_t>());
  return f;
}

TEST(Resizer, DeployableMatchesQdqModelOnReferenceCropResize) {
  const std::string dir = ::testing::TempDir() + "/kaiwu_resizer_e2e";
  fs::remove_all(dir);
  fs::create_directories(dir + "/calib");
  ASSERT_TRUE(frontend::save_onnx(tiny_cnn(), dir + "/tiny.onnx").ok());
  for (int i = 0; i < 8; ++i) {  // calibration: reference crops of whole frames, normalized like training data
    Frame f = nv12_frame(48, 64, 100 + i);
    const int32_t roi[4] = {0, 0, 63, 47};
    ASSERT_TRUE(write_npy(dir + "/calib/" + std::to_string(i) + ".npy", normalize(reference_rgb(f.y, f.uv, roi))).ok());
  }
  std::ofstream(dir + "/c.yaml")
      << "model_parameters:\n  onnx_model: '" << dir << "/tiny.onnx'\n  march: x86-avx512vnni\n  working_dir: '"
      << dir << "/out'\n  output_model_file_prefix: tiny\n"
      << "input_parameters:\n  input_name: img\n  input_type_rt: nv12\n  input_type_train: rgb\n"
         "  input_layout_train: NCHW\n  input_shape: 1x3x32x32\n  mean_value: 123.675 116.28 103.53\n"
         "  scale_value: 0.01712475 0.017507 0.01742919\n"
      << "calibration_parameters:\n  cal_data_dir: '" << dir << "/calib'\n  calibration_type: max\n"
      << "  quant_config: {model_config: {weight: {calibration_type: max, bias_correction: false}}}\n"
      << "compiler_parameters:\n  optimize_level: O2\n  input_source: {img: resizer}\n";
  std::unique_ptr<Session> dep, ptq;
  ASSERT_TRUE(test::compile_and_open(dir + "/c.yaml", dir + "/out", "tiny", 1, &dep, &ptq));
  ASSERT_EQ(dep->inputs().size(), 3u);
  EXPECT_EQ(dep->inputs()[0].name, "img_y");
  EXPECT_EQ(dep->inputs()[0].shape, (Shape{1, -1, -1, 1}));
  EXPECT_EQ(dep->inputs()[1].name, "img_uv");
  EXPECT_EQ(dep->inputs()[1].shape, (Shape{1, -1, -1, 2}));
  EXPECT_EQ(dep->inputs()[2].name, "img_roi");
  EXPECT_EQ(dep->inputs()[2].dtype, DType::kI32);
  EXPECT_EQ(dep->inputs()[2].shape, (Shape{1, 4}));

  std::mt19937 rng(11);
  int runs = 0, argmax_checked = 0;
  double cos_sum = 0, cos_min = 1;
  for (auto [fh, fw] : std::vector<std::pair<int64_t, int64_t>>{{120, 160}, {24, 20}, {32, 32}, {480, 640}}) {
    Frame f = nv12_frame(fh, fw, unsigned(fh * fw));
    std::vector<std::array<int32_t, 4>> rois = {{0, 0, int32_t(fw - 1), int32_t(fh - 1)}};  // whole frame
    for (int k = 0; k < 10; ++k) {
      int32_t l = int32_t(rng() % fw), r = int32_t(rng() % fw), t = int32_t(rng() % fh), b = int32_t(rng() % fh);
      if (k == 0) l = 0, t = 0;                               // top-left corner
      if (k == 1) r = int32_t(fw - 1), b = int32_t(fh - 1);   // bottom-right corner
      if (k == 2) l = int32_t(fw / 2), r = std::min<int32_t>(l + 9, int32_t(fw - 1));  // narrow (<32 wide)
      if (k == 3) t = 1, b = std::min<int32_t>(t + 6, int32_t(fh - 1));               // short, odd top
      rois.push_back({std::min(l, r), std::min(t, b), std::max(l, r), std::max(t, b)});
    }
    for (const auto& roi : rois) {
      Tensor rt = Tensor::empty(DType::kI32, {1, 4});
      std::memcpy(rt.data<int32_t>(), roi.data(), 16);
      std::vector<Tensor> a, b;
      Status s = dep->run({{"img_y", f.y}, {"img_uv", f.uv}, {"img_roi", rt}}, {}, &a);
      ASSERT_TRUE(s.ok()) << s.message();
      s = ptq->run({{"img", normalize(reference_rgb(f.y, f.uv, roi.data()))}}, {}, &b);
      ASSERT_TRUE(s.ok()) << s.message();
      ASSERT_EQ(a[0].numel(), 10);
      const float *pa = a[0].data<float>(), *pb = b[0].data<float>();
      double ab = 0, aa = 0, bb = 0;
      for (int i = 0; i < 10; ++i) ab += double(pa[i]) * pb[i], aa += double(pa[i]) * pa[i], bb += double(pb[i]) * pb[i];
      const double cosv = ab / std::sqrt(aa * bb + 1e-30);
      const std::string what = "frame " + std::to_string(fh) + "x" + std::to_string(fw) + " roi " +
                               std::to_string(roi[0]) + "," + std::to_string(roi[1]) + "," + std::to_string(roi[2]) +
                               "," + std::to_string(roi[3]);
      EXPECT_GE(cosv, 0.999) << what;
      cos_sum += cosv;
      cos_min = std::min(cos_min, cosv);
      ++runs;
      std::vector<float> sorted(pb, pb + 10);
      std::sort(sorted.begin(), sorted.end());
      if (sorted[9] - sorted[8] > 0.02 * (sorted[9] - sorted[0])) {
        ++argmax_checked;
        EXPECT_EQ(std::max_element(pa, pa + 10) - pa, std::max_element(pb, pb + 10) - pb) << what;
      }
    }
  }
  std::printf("resizer: %d ROIs, mean cosine %.9f, min %.9f, argmax compared on %d\n", runs, cos_sum / runs, cos_min,
              argmax_checked);
  EXPECT_GE(cos_sum / runs, 0.9995);
  EXPECT_GE(argmax_checked, runs * 3 / 4);

  // A ROI outside the frame is refused, naming the input.
  Frame f = nv12_frame(24, 20, 5);
  Tensor bad = Tensor::empty(DType::kI32, {1, 4});
  const int32_t vals[4] = {4, 2, 20, 10};
  std::memcpy(bad.data<int32_t>(), vals, 16);
  std::vector<Tensor> o;
  Status s = dep->run({{"img_y", f.y}, {"img_uv", f.uv}, {"img_roi", bad}}, {}, &o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("img_roi"), std::string::npos) << s.message();
  std::printf("refused: %s\n", s.message().c_str());

  // `kaiwu exec infer --roi "l,t,r,b"` (hrt_model_exec style) fills img_roi; the frame planes come from .npy files
  // (their shape, no --input_shape needed); the output equals the Session's.
  const std::string kaiwu = test::build_dir() + "/bin/kaiwu";
  if (fs::exists(kaiwu)) {
    Frame g = nv12_frame(120, 160, 77);
    ASSERT_TRUE(write_npy(dir + "/y.npy", g.y).ok());
    ASSERT_TRUE(write_npy(dir + "/uv.npy", g.uv).ok());
    std::string out;
    int rc = test::run_command(kaiwu + " exec infer -m " + dir + "/out/tiny.kwm -i " + dir + "/y.npy," + dir +
                                   "/uv.npy --roi 7,3,150,110 -o " + dir + "/res 2>&1",
                               &out);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("img_roi: int32[1, 4] from --roi 7,3,150,110"), std::string::npos) << out;
    Tensor cli;
    ASSERT_TRUE(read_npy(dir + "/res/logits.npy", &cli).ok());
    Tensor rt = Tensor::empty(DType::kI32, {1, 4});
    const int32_t r[4] = {7, 3, 150, 110};
    std::memcpy(rt.data<int32_t>(), r, 16);
    std::vector<Tensor> a;
    ASSERT_TRUE(dep->run({{"img_y", g.y}, {"img_uv", g.uv}, {"img_roi", rt}}, {}, &a).ok());
    ASSERT_EQ(cli.nbytes(), a[0].nbytes());
    EXPECT_EQ(std::memcmp(cli.data<void>(), a[0].data<void>(), cli.nbytes()), 0);
    rc = test::run_command(kaiwu + " exec infer -m " + dir + "/out/tiny.kwm -i " + dir + "/y.npy," + dir +
                               "/uv.npy --roi 7,3,160,110 2>&1",
                           &out);
    EXPECT_NE(rc, 0);
    EXPECT_NE(out.find("img_roi"), std::string::npos) << out;
  }
  if (!std::getenv("KAIWU_KEEP_TEST_DIR")) fs::remove_all(dir);
}

// insert_preprocessing with a gray resizer input (NHWC training layout): inputs x_y [1,Hf,Wf,1] + x_roi, and the
// model equals the float model fed the crop-resized frame with (v - mean) * scale; rgb from a resizer is refused.
TEST(Resizer, GrayInsertPreprocessingAndRefusal) {
  test::ModelBuilder b(13);
  b.input("x", {1, 6, 10, 1});
  b.node("relu", "Relu", {"x"}, {"y"});
  b.output("y");
  config::CompileConfig c;
  config::InputParameters in;
  in.name = "x";
  in.type_rt = in.type_train = "gray";
  in.layout_train = "NHWC";
  in.mean = {128.0};
  in.scale = {1.0 / 64};
  in.source = "resizer";
  c.inputs.push_back(in);
  ir::Model m = b.m;
  std::string log;
  Status s = compiler::insert_preprocessing(c, &m, &log);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.graph.inputs.size(), 2u);
  EXPECT_EQ(m.graph.inputs[0].name, "x_y");
  EXPECT_EQ(m.graph.inputs[0].shape_string(), "[1, x_frame_height, x_frame_width, 1]");
  EXPECT_EQ(m.graph.inputs[1].name, "x_roi");
  EXPECT_EQ(m.graph.inputs[1].dtype, DType::kI32);
  EXPECT_NE(log.find("crop-and-resize to 6x10"), std::string::npos) << log;
  std::unique_ptr<runtime::GraphExecutor> ex;
  ASSERT_TRUE(runtime::GraphExecutor::create(m, SessionOptions{1, false}, &ex).ok());
  Tensor frame = Tensor::empty(DType::kU8, {1, 15, 9, 1});  // odd frame: fine for gray
  for (int64_t i = 0; i < frame.numel(); ++i) frame.data<uint8_t>()[i] = static_cast<uint8_t>(i * 37 % 251);
  Tensor roi = Tensor::empty(DType::kI32, {1, 4});
  const int32_t r[4] = {1, 2, 8, 14};
  std::memcpy(roi.data<int32_t>(), r, 16);
  std::vector<Tensor> out;
  s = ex->run({{"x_y", frame}, {"x_roi", roi}}, {"y"}, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<double> want = test::crop_resize(frame.data<uint8_t>(), 15, 9, 1, r, 1, 6, 10);
  ASSERT_EQ(out[0].shape(), (Shape{1, 6, 10, 1}));
  for (int64_t i = 0; i < 60; ++i) {
    // The resized byte may differ by one from the double-precision rounding (11-bit weights): one step of 1/64.
    ASSERT_NEAR(out[0].data<float>()[i], std::max(0.0, (want[i] - 128) / 64), 1.0 / 64 + 1e-6) << i;
  }
  in.type_rt = in.type_train = "rgb";
  in.layout_train = "NCHW";
  c.inputs[0] = in;
  test::ModelBuilder b3(13);
  b3.input("x", {1, 3, 6, 10});
  b3.node("relu", "Relu", {"x"}, {"y"});
  b3.output("y");
  ir::Model m3 = b3.m;
  s = compiler::insert_preprocessing(c, &m3, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'x'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("resizer only supports input_type_rt nv12 or gray"), std::string::npos) << s.message();
}

// rgb frames from ddr: the deployable input keeps the float input's name with its own NHWC uint8 shape; the compile
// (including the performance estimate, which must not force the float NCHW shape on it) succeeds and the deployable
// agrees with P_ptq_model.onnx fed the numpy-style normalized frame.
TEST(Resizer, RgbDdrFramesCompileAndMatchTheQdqModel) {
  const std::string dir = ::testing::TempDir() + "/kaiwu_rgb_ddr_e2e";
  fs::remove_all(dir);
  fs::create_directories(dir + "/calib");
  ASSERT_TRUE(frontend::save_onnx(tiny_cnn(), dir + "/tiny.onnx").ok());
  auto as_double = [](const std::vector<uint8_t>& v) { return std::vector<double>(v.begin(), v.end()); };
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(write_npy(dir + "/calib/" + std::to_string(i) + ".npy", normalize(as_double(smooth_rgb(kH, kW, 300 + i)))).ok());
  std::ofstream(dir + "/c.yaml")
      << "model_parameters:\n  onnx_model: '" << dir << "/tiny.onnx'\n  march: x86-avx512vnni\n  working_dir: '"
      << dir << "/out'\n  output_model_file_prefix: tiny\n"
      << "input_parameters:\n  input_name: img\n  input_type_rt: rgb\n  input_type_train: rgb\n"
         "  input_layout_train: NCHW\n  input_shape: 1x3x32x32\n  mean_value: 123.675 116.28 103.53\n"
         "  scale_value: 0.01712475 0.017507 0.01742919\n"
      << "calibration_parameters:\n  cal_data_dir: '" << dir << "/calib'\n  calibration_type: max\n"
      << "  quant_config: {model_config: {weight: {calibration_type: max, bias_correction: false}}}\n";
  std::unique_ptr<Session> dep, ptq;
  ASSERT_TRUE(test::compile_and_open(dir + "/c.yaml", dir + "/out", "tiny", 1, &dep, &ptq));
  ASSERT_EQ(dep->inputs().size(), 1u);
  EXPECT_EQ(dep->inputs()[0].name, "img");
  EXPECT_EQ(dep->inputs()[0].dtype, DType::kU8);
  EXPECT_EQ(dep->inputs()[0].shape, (Shape{1, kH, kW, 3}));
  for (unsigned seed = 400; seed < 404; ++seed) {
    std::vector<uint8_t> rgb = smooth_rgb(kH, kW, seed);
    Tensor frame = Tensor::empty(DType::kU8, {1, kH, kW, 3});
    std::memcpy(frame.data<uint8_t>(), rgb.data(), rgb.size());
    std::vector<Tensor> a, b;
    ASSERT_TRUE(dep->run({{"img", frame}}, {}, &a).ok());
    ASSERT_TRUE(ptq->run({{"img", normalize(as_double(rgb))}}, {}, &b).ok());
    double ab = 0, aa = 0, bb = 0;
    for (int64_t i = 0; i < 10; ++i) {
      const double x = a[0].data<float>()[i], y = b[0].data<float>()[i];
      ab += x * y, aa += x * x, bb += y * y;
    }
    EXPECT_GT(ab / std::sqrt(aa * bb + 1e-30), 0.999) << seed;
  }
}

}  // namespace
}  // namespace kaiwu
