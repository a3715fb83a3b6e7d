// compiler::insert_preprocessing on small fixed-point-like models (x -> QuantizeLinear -> DequantizeLinear -> Conv):
// the new model fed a uint8 frame must equal the old model fed the reference-preprocessed float input.
// rgb/bgr/gray (pure mean/scale maths, quantization folded): bit-exact. nv12 (BT.601 computed in double in the test,
// float32 fma in the op): the int8 input may differ by 1 step at rounding ties, so the dequantized input is within
// one quantization step (mismatches < 1%) and the conv output within x_scale * max_oc sum|w|.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include <unistd.h>

#include "compiler/preprocess.h"
#include "kaiwu/session.h"
#include "test_util.h"
#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "model_builder.h"
#include "passes/passes.h"
#include "runtime/graph_executor.h"

namespace kaiwu {
namespace {

constexpr float kXScale = 0.02f;

// x [1,3,8,8] (or `shape`, NHWC when nhwc) -> Q -> DQ -> Conv 3x3 (or Relu for 1 channel) -> y; also outputs the
// dequantized input "xd"; `second_reader` adds Relu(x) -> z so x has two readers.
ir::Model make_model(Shape shape, bool nhwc, bool second_reader) {
  test::ModelBuilder b(13);
  b.input("x", shape);
  b.constant("xs", Tensor::from_vector<float>({kXScale}, Shape{}));
  b.constant("xz", Tensor::from_vector<int8_t>({3}, Shape{}));
  b.node("q", "QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b.node("dq", "DequantizeLinear", {"xq", "xs", "xz"}, {"xd"});
  const int64_t C = nhwc ? shape[3] : shape[1];
  if (C == 3 && !nhwc) {
    Tensor w = Tensor::empty(DType::kF32, {4, 3, 3, 3});
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> d(-0.5f, 0.5f);
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = d(rng);
    b.constant("w", w);
    b.constant("bias", Tensor::from_vector<float>({0.1f, -0.2f, 0.3f, 0.f}, Shape{4}));
    b.node("conv", "Conv", {"xd", "w", "bias"}, {"y"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  } else {
    b.node("relu", "Relu", {"xd"}, {"y"});
  }
  b.output("y");
  b.output("xd");
  if (second_reader) {
    b.node("relu_x", "Relu", {"x"}, {"z"});
    b.output("z");
  }
  return b.m;
}

std::vector<Tensor> run(const ir::Model& m, const NamedTensors& feeds, const std::vector<std::string>& names) {
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status s = runtime::GraphExecutor::create(m, SessionOptions{1, false}, &ex);
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<Tensor> outs;
  if (!ex) return outs;
  s = ex->run(feeds, names, &outs);
  EXPECT_TRUE(s.ok()) << s.message();
  return outs;
}

config::CompileConfig cfg_for(const std::string& rt, const std::string& train, const std::string& layout,
                              std::vector<double> mean, std::vector<double> scale, const std::string& source) {
  config::CompileConfig c;
  config::InputParameters in;
  in.name = "x";
  in.type_rt = rt;
  in.type_train = train;
  in.layout_train = layout;
  in.mean = std::move(mean);
  in.scale = std::move(scale);
  in.source = source;
  c.inputs.push_back(in);
  return c;
}

Tensor u8(Shape s, unsigned seed) {
  Tensor t = Tensor::empty(DType::kU8, s);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  return t;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.data<void>(), b.data<void>(), a.nbytes()) == 0;
}

int count_op(const ir::Model& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph.nodes) n += node.op_type == op;
  return n;
}

const std::vector<double> kMean = {123.675, 116.28, 103.53}, kScale = {0.01712475, 0.017507, 0.01742919};

TEST(InsertPreprocessing, RgbMeanScaleFoldsQuantizeBitExact) {
  ir::Model old = make_model({1, 3, 8, 8}, false, false), m = old;
  std::string log;
  Status s = compiler::insert_preprocessing(cfg_for("rgb", "rgb", "NCHW", kMean, kScale, "ddr"), &m, &log);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 0);
  ASSERT_EQ(count_op(m, "Preprocess"), 1);
  EXPECT_TRUE(m.graph.nodes[0].has_attr("output_scale"));
  EXPECT_NE(log.find("folded"), std::string::npos) << log;
  ASSERT_EQ(m.graph.inputs.size(), 1u);
  EXPECT_EQ(m.graph.inputs[0].name, "x");
  EXPECT_EQ(m.graph.inputs[0].dtype, DType::kU8);
  EXPECT_EQ(m.graph.inputs[0].shape_string(), "[1, 8, 8, 3]");
  ASSERT_TRUE(m.graph.verify().ok());

  Tensor u = u8({1, 8, 8, 3}, 17);
  Tensor xf = Tensor::empty(DType::kF32, {1, 3, 8, 8});  // numpy: ((u - mean) * scale).transpose(0, 3, 1, 2)
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 64; ++i)
      xf.data<float>()[c * 64 + i] =
          (float(u.data<uint8_t>()[i * 3 + c]) - float(kMean[c])) * float(kScale[c]);
  auto want = run(old, {{"x", xf}}, {"y", "xd"});
  auto got = run(m, {{"x", u}}, {"y", "xd"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(same(want[0], got[0]));
  EXPECT_TRUE(same(want[1], got[1]));
}

TEST(InsertPreprocessing, Nv12PyramidToRgbWithinOneStep) {
  ir::Model old = make_model({1, 3, 8, 8}, false, false), m = old;
  std::string log;
  Status s = compiler::insert_preprocessing(cfg_for("nv12", "rgb", "NCHW", kMean, kScale, "pyramid"), &m, &log);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.graph.inputs.size(), 2u);
  EXPECT_EQ(m.graph.inputs[0].name, "x_y");
  EXPECT_EQ(m.graph.inputs[0].shape_string(), "[1, 8, 8, 1]");
  EXPECT_EQ(m.graph.inputs[1].name, "x_uv");
  EXPECT_EQ(m.graph.inputs[1].shape_string(), "[1, 4, 4, 2]");
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 0);

  Tensor y = u8({1, 8, 8, 1}, 5), uv = u8({1, 4, 4, 2}, 6);
  Tensor xf = Tensor::empty(DType::kF32, {1, 3, 8, 8});
  for (int h = 0; h < 8; ++h)
    for (int w = 0; w < 8; ++w) {
      const double Y = y.data<uint8_t>()[h * 8 + w];
      const uint8_t* c = uv.data<uint8_t>() + ((h / 2) * 4 + w / 2) * 2;
      const double U = c[0] - 128.0, V = c[1] - 128.0;
      const double rgb[3] = {Y + 1.402 * V, Y - 0.344136 * U - 0.714136 * V, Y + 1.772 * U};
      for (int ch = 0; ch < 3; ++ch)
        xf.data<float>()[ch * 64 + h * 8 + w] =
            static_cast<float>((std::min(255.0, std::max(0.0, rgb[ch])) - kMean[ch]) * kScale[ch]);
    }
  auto want = run(old, {{"x", xf}}, {"y", "xd"});
  auto got = run(m, {{"x_y", y}, {"x_uv", uv}}, {"y", "xd"});
  ASSERT_EQ(got.size(), 2u);
  int mismatched = 0;
  for (int64_t i = 0; i < want[1].numel(); ++i) {
    const float d = std::fabs(want[1].data<float>()[i] - got[1].data<float>()[i]);
    ASSERT_LE(d, kXScale * 1.001f) << i;
    mismatched += d != 0.f;
  }
  EXPECT_LT(mismatched, want[1].numel() / 100 + 1);
  std::printf("%s%d of %lld int8 inputs differ by one step\n", log.c_str(), mismatched,
              static_cast<long long>(want[1].numel()));
  // |w| <= 0.5, 27 taps: one step on every input moves an output by at most 27 * 0.5 * x_scale.
  for (int64_t i = 0; i < want[0].numel(); ++i)
    ASSERT_NEAR(want[0].data<float>()[i], got[0].data<float>()[i], 27 * 0.5 * kXScale + 1e-4);
}

TEST(InsertPreprocessing, TwoReadersKeepFloatOutput) {
  ir::Model old = make_model({1, 3, 8, 8}, false, true), m = old;
  Status s = compiler::insert_preprocessing(cfg_for("bgr", "rgb", "NCHW", {128.0}, {1.0 / 64}, ""), &m, nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 1);
  EXPECT_FALSE(m.graph.nodes[0].has_attr("output_scale"));
  Tensor u = u8({1, 8, 8, 3}, 23);
  Tensor xf = Tensor::empty(DType::kF32, {1, 3, 8, 8});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 64; ++i)
      xf.data<float>()[c * 64 + i] = (float(u.data<uint8_t>()[i * 3 + 2 - c]) - 128.f) * float(1.0 / 64);
  auto want = run(old, {{"x", xf}}, {"y", "z"});
  auto got = run(m, {{"x", u}}, {"y", "z"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(same(want[0], got[0]));
  EXPECT_TRUE(same(want[1], got[1]));
}

TEST(InsertPreprocessing, GrayPyramidNhwc) {
  ir::Model old = make_model({1, 6, 10, 1}, true, false), m = old;
  std::string log;
  Status s = compiler::insert_preprocessing(cfg_for("gray", "gray", "NHWC", {127.5}, {1.0 / 127.5}, "pyramid"), &m, &log);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(m.graph.inputs.size(), 1u);
  EXPECT_EQ(m.graph.inputs[0].name, "x_y");
  Tensor g = u8({1, 6, 10, 1}, 3);
  Tensor xf = Tensor::empty(DType::kF32, {1, 6, 10, 1});
  for (int i = 0; i < 60; ++i) xf.data<float>()[i] = (float(g.data<uint8_t>()[i]) - 127.5f) * float(1.0 / 127.5);
  auto want = run(old, {{"x", xf}}, {"y"});
  auto got = run(m, {{"x_y", g}}, {"y"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(same(want[0], got[0]));
}

// nv12 from ddr (kaiwu choice): one packed buffer x [N,H*3/2,W,1] (Y plane, then the interleaved UV plane), same
// result as the pyramid form; a symbolic batch stays symbolic and runs with batch 2.
TEST(InsertPreprocessing, Nv12DdrPackedAndSymbolicBatch) {
  ir::Model base = make_model({1, 3, 8, 8}, false, false);
  base.graph.inputs[0].dims[0] = ir::Dim::symbol("N");
  ir::Model pyr = base, ddr = base;
  ASSERT_TRUE(compiler::insert_preprocessing(cfg_for("nv12", "bgr", "NCHW", kMean, kScale, "pyramid"), &pyr, nullptr).ok());
  Status s = compiler::insert_preprocessing(cfg_for("nv12", "bgr", "NCHW", kMean, kScale, "ddr"), &ddr, nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(ddr.graph.inputs.size(), 1u);
  EXPECT_EQ(ddr.graph.inputs[0].name, "x");
  EXPECT_EQ(ddr.graph.inputs[0].shape_string(), "[N, 12, 8, 1]");
  EXPECT_EQ(pyr.graph.inputs[0].shape_string(), "[N, 8, 8, 1]");
  Tensor y = u8({2, 8, 8, 1}, 51), uv = u8({2, 4, 4, 2}, 52);
  Tensor packed = Tensor::empty(DType::kU8, {2, 12, 8, 1});
  for (int n = 0; n < 2; ++n) {
    std::memcpy(packed.data<uint8_t>() + n * 96, y.data<uint8_t>() + n * 64, 64);
    std::memcpy(packed.data<uint8_t>() + n * 96 + 64, uv.data<uint8_t>() + n * 32, 32);
  }
  auto a = run(pyr, {{"x_y", y}, {"x_uv", uv}}, {"y"});
  auto b = run(ddr, {{"x", packed}}, {"y"});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].shape(), (Shape{2, 4, 8, 8}));
  EXPECT_TRUE(same(a[0], b[0]));
}

// x -> QuantizeLinear -> QLinearConv (int8) -> DequantizeLinear -> y, like the lowered fixed-point model.
ir::Model make_qconv_model() {
  test::ModelBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.constant("xs", Tensor::from_vector<float>({kXScale}, Shape{}));
  b.constant("xz", Tensor::from_vector<int8_t>({3}, Shape{}));
  Tensor w = Tensor::empty(DType::kI8, {8, 3, 3, 3});
  std::mt19937 rng(9);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  b.constant("w", w);
  b.constant("ws", Tensor::from_vector<float>({0.004f}, Shape{}));
  b.constant("wz", Tensor::from_vector<int8_t>({0}, Shape{}));
  b.constant("ys", Tensor::from_vector<float>({0.05f}, Shape{}));
  b.constant("yz", Tensor::from_vector<int8_t>({-2}, Shape{}));
  b.node("q", "QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b.node("qconv", "QLinearConv", {"xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, {"yq"}).attrs["pads"] =
      ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("dq", "DequantizeLinear", {"yq", "ys", "yz"}, {"y"});
  b.output("y");
  return b.m;
}

TEST(InsertPreprocessing, DeployableWritesNhwcDirectly) {
  ir::Model m = make_qconv_model();
  ASSERT_TRUE(compiler::insert_preprocessing(cfg_for("nv12", "rgb", "NCHW", kMean, kScale, "pyramid"), &m, nullptr).ok());
  ir::Model dep = m;
  Status s = passes::optimize_for_cpu(dep);
  ASSERT_TRUE(s.ok()) << s.message();
  const int folded = compiler::fold_preprocess_layout(&dep);
  ASSERT_TRUE(dep.graph.verify().ok());
  const ir::Node* pre = nullptr;
  for (const auto& n : dep.graph.nodes)
    if (n.op_type == "Preprocess") pre = &n;
  ASSERT_TRUE(pre);
  // When the layout pass made the int8 convolution NHWC, its input Transpose is gone and Preprocess writes NHWC.
  if (folded) EXPECT_EQ(pre->attr_string("output_layout", ""), "NHWC");
  for (const auto& n : dep.graph.nodes)
    if (n.op_type == "Transpose") EXPECT_NE(n.inputs[0], pre->outputs[0]);
  Tensor y = u8({1, 8, 8, 1}, 41), uv = u8({1, 4, 4, 2}, 42);
  NamedTensors feeds = {{"x_y", y}, {"x_uv", uv}};
  auto a = run(m, feeds, {"y"});
  auto b = run(dep, feeds, {"y"});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(same(a[0], b[0]));
  std::printf("fold_preprocess_layout folded %d transpose(s)\n", folded);

  // The fixed-point model survives an ONNX round trip, the deployable a .kwm round trip through Session.
  char tmpl[] = "/tmp/kaiwu_prep_XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  const std::string dir = tmpl;
  ASSERT_TRUE(frontend::save_onnx(m, dir + "/q.onnx").ok());
  ir::Model back;
  s = frontend::load_onnx(dir + "/q.onnx", &back);
  ASSERT_TRUE(s.ok()) << s.message();
  auto c = run(back, feeds, {"y"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(same(a[0], c[0]));
  s = deploy::write_deployable(dep, deploy::DeployInfo{"test", "", ""}, dir + "/p.kwm");
  ASSERT_TRUE(s.ok()) << s.message();
  std::unique_ptr<Session> session;
  s = Session::open(dir + "/p.kwm", SessionOptions{1, false}, &session);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(session->inputs().size(), 2u);
  EXPECT_EQ(session->inputs()[0].name, "x_y");
  EXPECT_EQ(session->inputs()[0].dtype, DType::kU8);
  std::vector<Tensor> d;
  s = session->run(feeds, {"y"}, &d);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(same(a[0], d[0]));
  std::remove((dir + "/q.onnx").c_str());
  std::remove((dir + "/p.kwm").c_str());
  rmdir(dir.c_str());
}

TEST(InsertPreprocessing, FeaturemapAndRefusals) {
  ir::Model old = make_model({1, 3, 8, 8}, false, false);
  {  // featuremap: untouched
    ir::Model m = old;
    ASSERT_TRUE(compiler::insert_preprocessing(cfg_for("featuremap", "featuremap", "", {}, {}, "ddr"), &m, nullptr).ok());
    EXPECT_EQ(m.graph.inputs[0].dtype, DType::kF32);
    EXPECT_EQ(count_op(m, "Preprocess"), 0);
    EXPECT_EQ(count_op(m, "QuantizeLinear"), 1);
  }
  auto refused = [&](const config::CompileConfig& c, const std::string& what, ir::Model base) {
    Status s = compiler::insert_preprocessing(c, &base, nullptr);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_NE(s.message().find("'x'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  };
  refused(cfg_for("featuremap", "featuremap", "", {1.0}, {}, "ddr"), "featuremap", old);
  refused(cfg_for("gray", "rgb", "NCHW", {}, {}, "ddr"), "illegal type pair", old);
  refused(cfg_for("rgb", "rgb", "NCHW", {}, {}, "resizer"), "resizer", old);  // resizer: nv12 or gray only
  refused(cfg_for("nv12", "rgb", "NCHW", {}, {}, "pyramid"), "odd size", make_model({1, 3, 8, 7}, false, false));
  refused(cfg_for("gray", "gray", "NCHW", {}, {}, "ddr"), "channels", old);
  ir::Model m = old;
  Status s = compiler::insert_preprocessing(cfg_for("rgb", "gray", "NCHW", {}, {}, "ddr"), &m, nullptr);
  std::printf("refusal: %s\n", s.message().c_str());
}

}  // namespace
}  // namespace kaiwu
