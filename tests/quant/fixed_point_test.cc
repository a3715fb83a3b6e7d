// The QDQ -> fixed-point lowering on a model built in code that has every lowered pattern (conv + relu / clip,
// residual add, sigmoid, mul, max and average pooling, concat with requantization, gemm with bias, division by a
// constant): structure, agreement with the QDQ model (which runs DequantizeLinear -> float op -> QuantizeLinear),
// thread-count independence, and the deployable round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "model_builder.h"
#include "passes/passes.h"
#include "quant/fixed_point.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"
#include "test_util.h"

namespace kaiwu {
namespace {

using Builder = test::ModelBuilder;

// x[1,3,12,12] -> conv1+relu -> conv2 -> add(relu1) -> sigmoid -> mul(add) -> maxpool -> [conv3+clip6 , avgpool]
// -> concat -> gap -> reshape -> gemm -> div 2 -> y[1,10]
Builder lowering_net() {
  Builder b;
  b.input("x", {1, 3, 12, 12});
  b.constant("w1", test::random_f32({8, 3, 3, 3}, 1, -0.5f, 0.5f));
  b.constant("b1", test::random_f32({8}, 2, -0.2f, 0.2f));
  b.constant("w2", test::random_f32({8, 8, 3, 3}, 3, -0.3f, 0.3f));
  b.constant("b2", test::random_f32({8}, 4, -0.2f, 0.2f));
  b.constant("w3", test::random_f32({8, 8, 1, 1}, 7, -0.8f, 0.8f));
  b.constant("lo", Tensor::from_vector<float>({0.f}));
  b.constant("hi", Tensor::from_vector<float>({6.f}));
  b.constant("wf", test::random_f32({10, 16}, 5, -1.f, 1.f));
  b.constant("bf", test::random_f32({10}, 6, -0.5f, 0.5f));
  b.constant("shape", Tensor::from_vector<int64_t>({1, 16}));
  b.constant("two", Tensor::from_vector<float>({2.f}));
  auto pads = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("conv1", "Conv", {"x", "w1", "b1"}, {"c1"}).attrs["pads"] = pads;
  b.node("relu1", "Relu", {"c1"}, {"r1"});
  b.node("conv2", "Conv", {"r1", "w2", "b2"}, {"c2"}).attrs["pads"] = pads;
  b.node("add", "Add", {"r1", "c2"}, {"a"});
  b.node("sig", "Sigmoid", {"a"}, {"s"});
  b.node("mul", "Mul", {"a", "s"}, {"sw"});
  auto& mp = b.node("pool", "MaxPool", {"sw"}, {"p"});
  mp.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
  mp.attrs["strides"] = ir::Attribute::make_ints({2, 2});
  b.node("conv3", "Conv", {"p", "w3"}, {"c3"});
  b.node("clip", "Clip", {"c3", "lo", "hi"}, {"k"});
  auto& ap = b.node("avg", "AveragePool", {"p"}, {"v"});
  ap.attrs["kernel_shape"] = ir::Attribute::make_ints({3, 3});
  ap.attrs["pads"] = pads;
  b.node("cat", "Concat", {"k", "v"}, {"cc"}).attrs["axis"] = ir::Attribute::make_int(1);
  b.node("gap", "GlobalAveragePool", {"cc"}, {"g"});
  b.node("reshape", "Reshape", {"g", "shape"}, {"f"});
  b.node("gemm", "Gemm", {"f", "wf", "bf"}, {"z"}).attrs["transB"] = ir::Attribute::make_int(1);
  b.node("div", "Div", {"z", "two"}, {"d"});
  b.node("relu_out", "Relu", {"d"}, {"y"});
  b.output("y", {1, 10});
  return b;
}

std::vector<Tensor> run(const ir::Model& m, const NamedTensors& feeds,
                        const std::vector<std::string>& names, bool optimize, int threads = 1, bool ref = false) {
  SessionOptions o;
  o.num_threads = threads;
  o.optimize = optimize;
  o.reference_only = ref;
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status st = runtime::GraphExecutor::create(m, o, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  std::vector<Tensor> out;
  if (!ex) return out;
  st = ex->run(feeds, names, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return out;
}

// Min/max of the float values `names` of `m` over inputs x drawn in [-2, 2) with shape `shape` and seeds
// [seed0, seed1): what max calibration would give.
std::map<std::string, quant::TensorRange> minmax_ranges(const ir::Model& m, const std::vector<std::string>& names,
                                                        const Shape& shape, unsigned seed0, unsigned seed1) {
  std::map<std::string, quant::TensorRange> ranges;
  for (unsigned seed = seed0; seed < seed1; ++seed) {
    auto vals = run(m, {{"x", test::random_f32(shape, seed, -2.f, 2.f)}}, names, false);
    for (size_t i = 0; i < vals.size(); ++i) {
      if (vals[i].dtype() != DType::kF32) continue;
      auto& r = ranges.emplace(names[i], quant::TensorRange{1e30f, -1e30f}).first->second;
      for (int64_t k = 0; k < vals[i].numel(); ++k) {
        r.min = std::min(r.min, vals[i].data<float>()[k]);
        r.max = std::max(r.max, vals[i].data<float>()[k]);
      }
    }
  }
  return ranges;
}

// The QDQ model of lowering_net calibrated by min/max on a few random inputs.
ir::Model qdq_model() {
  ir::Model m = lowering_net().m;
  std::vector<std::string> names = {"x"};
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs) names.push_back(o);
  std::map<std::string, quant::TensorRange> ranges = minmax_ranges(m, names, {1, 3, 12, 12}, 10, 14);
  quant::QuantOptions qo;
  Status st = quant::insert_qdq(m, ranges, qo, nullptr);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return m;
}

int count_op(const ir::Graph& g, const std::string& domain, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes) c += n.domain == domain && n.op_type == op;
  return c;
}

double cosine(const Tensor& a, const Tensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    ab += double(a.data<float>()[i]) * b.data<float>()[i];
    aa += double(a.data<float>()[i]) * a.data<float>()[i];
    bb += double(b.data<float>()[i]) * b.data<float>()[i];
  }
  return ab / std::sqrt(aa * bb + 1e-30);
}

TEST(FixedPoint, EveryPatternLowers) {
  ir::Model q = qdq_model();
  ir::Model f;
  quant::LowerReport r;
  ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, &r).ok());
  EXPECT_EQ(count_op(f.graph, "", "QLinearConv"), 4);  // conv1, conv2, conv3, gemm as 1x1
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAdd"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QMul"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QLut"), 1);  // sigmoid; relu1 and clip are the conv's saturation
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAveragePool"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QGlobalAveragePool"), 1);
  EXPECT_GE(count_op(f.graph, "kaiwu", "Requantize"), 2);  // the division, and concat inputs
  EXPECT_EQ(count_op(f.graph, "", "MaxPool"), 1);
  EXPECT_EQ(count_op(f.graph, "", "Conv"), 0);
  EXPECT_EQ(count_op(f.graph, "", "Gemm"), 0);
  // Only the graph input's Quantize and the Dequantize before relu_out (which keeps the float output) remain.
  EXPECT_EQ(count_op(f.graph, "", "QuantizeLinear"), 1);
  EXPECT_EQ(count_op(f.graph, "", "DequantizeLinear"), 1);
  EXPECT_EQ(r.float_count(), 1) << "relu_out produces the float graph output";
  for (const auto& n : r.nodes)
    if (!n.integer) {
      EXPECT_EQ(n.name, "relu_out") << n.how;
    }
  // No float weight is left in the model.
  for (const auto& [name, t] : f.graph.initializers)
    if (t.numel() > 16) EXPECT_NE(t.dtype(), DType::kF32) << name;
}

TEST(FixedPoint, AgreesWithQdqModelAndIsThreadIndependent) {
  ir::Model q = qdq_model();
  ir::Model f;
  ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, nullptr).ok());
  double worst = 1.0;
  for (unsigned seed = 20; seed < 26; ++seed) {
    Tensor x = test::random_f32({1, 3, 12, 12}, seed, -2.f, 2.f);
    auto want = run(q, {{"x", x}}, {"y"}, false, 1, true);  // DQ -> float op -> Q, reference kernels
    auto got = run(f, {{"x", x}}, {"y"}, true, 1);           // optimized: NHWC int8 convs through oneDNN
    auto got_ref = run(f, {{"x", x}}, {"y"}, false, 1, true);
    auto got2 = run(f, {{"x", x}}, {"y"}, true, 2);
    ASSERT_EQ(want.size(), 1u);
    ASSERT_EQ(got.size(), 1u);
    worst = std::min(worst, cosine(want[0], got[0]));
    // 1 LSB of the last quantized tensor (Div's output scale) bounds the difference on almost every element.
    EXPECT_EQ(std::memcmp(got[0].raw(), got2[0].raw(), got[0].nbytes()), 0) << "thread count changed the bits";
    EXPECT_GT(cosine(got_ref[0], got[0]), 0.9999);
  }
  EXPECT_GT(worst, 0.999);
}

TEST(FixedPoint, OnnxAndDeployableRoundTripsAreBitIdentical) {
  ir::Model q = qdq_model();
  ir::Model f;
  ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, nullptr).ok());
  const std::string dir = ::testing::TempDir();
  const std::string onnx_path = dir + "/kw_fixed_point_test.onnx", kwm_path = dir + "/kw_fixed_point_test.kwm";
  ASSERT_TRUE(frontend::save_onnx(f, onnx_path).ok());
  ir::Model back;
  ASSERT_TRUE(frontend::load_onnx(onnx_path, &back).ok());
  ir::Model opt = back;
  ASSERT_TRUE(passes::optimize_for_cpu(opt).ok());
  ASSERT_TRUE(deploy::write_deployable(opt, {"test", "generic", "{}"}, kwm_path).ok());
  ir::Model dm;
  deploy::DeployInfo info;
  ASSERT_TRUE(deploy::read_deployable(kwm_path, &dm, &info).ok());
  Tensor x = test::random_f32({1, 3, 12, 12}, 31, -2.f, 2.f);
  auto a = run(f, {{"x", x}}, {"y"}, true);
  auto b = run(back, {{"x", x}}, {"y"}, true);
  auto c = run(dm, {{"x", x}}, {"y"}, false);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()), 0);
  EXPECT_EQ(std::memcmp(a[0].raw(), c[0].raw(), a[0].nbytes()), 0);
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// PP-LCNet's activation block: HardSwish then a learnable affine x * a + b with [1]-shaped constants. The three
// unary steps become one composed 256-entry table, with the same integers as running them one by one.
TEST(FixedPoint, UnaryChainsComposeIntoOneTable) {
  Builder b;
  b.input("x", {1, 3, 6, 6});
  b.constant("w1", test::random_f32({4, 3, 3, 3}, 1, -0.5f, 0.5f));
  b.constant("w2", test::random_f32({4, 4, 1, 1}, 2, -0.5f, 0.5f));
  b.constant("a", Tensor::from_vector<float>({0.8f}, {1}));
  b.constant("c", Tensor::from_vector<float>({0.3f}, {1}));
  b.node("conv1", "Conv", {"x", "w1"}, {"c1"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("hs", "HardSwish", {"c1"}, {"h"});
  b.node("mul", "Mul", {"h", "a"}, {"m"});
  b.node("add", "Add", {"c", "m"}, {"s"});
  b.node("conv2", "Conv", {"s", "w2"}, {"c2"});
  b.node("relu", "Relu", {"c2"}, {"y"});
  b.output("y", {1, 4, 6, 6});
  b.m.opsets[""] = 14;
  ir::Model m = b.m;
  std::vector<std::string> names = {"x", "c1", "h", "m", "s", "c2", "y"};
  std::map<std::string, quant::TensorRange> ranges = minmax_ranges(m, names, {1, 3, 6, 6}, 3, 6);
  ASSERT_TRUE(quant::insert_qdq(m, ranges, quant::QuantOptions(), nullptr).ok());
  ir::Model f;
  ASSERT_TRUE(quant::lower_to_fixed_point(m, &f, nullptr).ok());
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QLut"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QMul"), 0);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAdd"), 0);
  for (unsigned seed = 7; seed < 10; ++seed) {
    Tensor x = test::random_f32({1, 3, 6, 6}, seed, -2.f, 2.f);
    auto want = run(m, {{"x", x}}, {"y"}, false, 1, true);
    auto got = run(f, {{"x", x}}, {"y"}, true, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GT(cosine(want[0], got[0]), 0.9999);
  }
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// ConvTranspose with kernel == stride (PP-OCR det's head) lowers to QLinearConv 1x1 + DepthToSpace(CRD).
TEST(FixedPoint, NonOverlappingConvTransposeBecomesConvAndDepthToSpace) {
  Builder b;
  b.input("x", {1, 3, 5, 4});
  b.constant("w1", test::random_f32({6, 3, 3, 3}, 1, -0.5f, 0.5f));
  b.constant("wt", test::random_f32({6, 4, 2, 2}, 2, -0.5f, 0.5f));  // [C_in, O, k, k]
  b.constant("bt", test::random_f32({4}, 3, -0.3f, 0.3f));
  b.constant("w1o", test::random_f32({4, 1, 2, 2}, 4, -0.5f, 0.5f));  // one output channel (PP-OCR det's last)
  b.constant("b1o", test::random_f32({1}, 5, -0.3f, 0.3f));
  b.node("conv1", "Conv", {"x", "w1"}, {"c1"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  auto& d = b.node("deconv", "ConvTranspose", {"c1", "wt", "bt"}, {"d"});
  d.attrs["strides"] = ir::Attribute::make_ints({2, 2});
  d.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
  b.node("relu", "Relu", {"d"}, {"r"});
  auto& d2 = b.node("deconv1", "ConvTranspose", {"r", "w1o", "b1o"}, {"d2"});
  d2.attrs["strides"] = ir::Attribute::make_ints({2, 2});
  d2.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
  b.node("sig", "Sigmoid", {"d2"}, {"y"});
  b.output("y", {1, 1, 20, 16});
  ir::Model m = b.m;
  std::vector<std::string> names = {"x", "c1", "d", "r", "d2", "y"};
  std::map<std::string, quant::TensorRange> ranges = minmax_ranges(m, names, {1, 3, 5, 4}, 3, 6);
  ASSERT_TRUE(quant::insert_qdq(m, ranges, quant::QuantOptions(), nullptr).ok());
  ir::Model f;
  quant::LowerReport rep;
  ASSERT_TRUE(quant::lower_to_fixed_point(m, &f, &rep).ok());
  EXPECT_EQ(count_op(f.graph, "", "ConvTranspose"), 0);
  EXPECT_EQ(count_op(f.graph, "", "DepthToSpace"), 2);
  EXPECT_EQ(count_op(f.graph, "", "QLinearConv"), 3);
  for (unsigned seed = 7; seed < 10; ++seed) {
    Tensor x = test::random_f32({1, 3, 5, 4}, seed, -2.f, 2.f);
    auto want = run(m, {{"x", x}}, {"y"}, false, 1, true);
    auto got = run(f, {{"x", x}}, {"y"}, true, 1);
    auto got_ref = run(f, {{"x", x}}, {"y"}, false, 1, true);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].shape(), (Shape{1, 1, 20, 16}));
    EXPECT_GT(cosine(want[0], got[0]), 0.9999);
    // oneDNN's requantization is within 1 LSB of the scalar reference (kernels/x86/qconv_onednn.h).
    EXPECT_GT(cosine(got_ref[0], got[0]), 0.99999);
  }
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// The deployable graph keeps int8 max pooling in the NHWC chain of the int8 convolutions around it (no Transpose
// pair around it), and its values do not change.
TEST(FixedPoint, Int8MaxPoolRunsInNhwc) {
  ir::Model f;
  ASSERT_TRUE(quant::lower_to_fixed_point(qdq_model(), &f, nullptr).ok());
  ir::Model d = f;
  ASSERT_TRUE(passes::optimize_for_cpu(d).ok());
  int nhwc_pools = 0;
  for (const auto& n : d.graph.nodes)
    if (n.op_type == "MaxPool") {
      EXPECT_EQ(n.domain, "kaiwu");
      EXPECT_EQ(n.attr_string("layout", ""), "NHWC");
      ++nhwc_pools;
    }
  EXPECT_EQ(nhwc_pools, 1);
  Tensor x = test::random_f32({1, 3, 12, 12}, 31, -2.f, 2.f);
  auto want = run(f, {{"x", x}}, {"y"}, false, 1, true);
  auto got = run(d, {{"x", x}}, {"y"}, false, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GT(cosine(want[0], got[0]), 0.9999);
}

}  // namespace
}  // namespace kaiwu
