// The QDQ insertion pass on small models built in code: structure (which tensors get Q/DQ, per-channel weight
// scales, exact int32 biases), accuracy of the QDQ model run by GraphExecutor against the float model, float
// fallback with a reason, int16 selection, errors, and the exported ONNX checked by onnx.checker + onnxruntime.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/npy.h"
#include "core/qmath.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "passes/passes.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"
#include "model_builder.h"
#include "ort_check.h"
#include "test_util.h"

namespace kaiwu {
namespace {

using quant::Precision;
using quant::TensorRange;

using Builder = test::ModelBuilder;

// x[2,3,8,8] -> conv1 -> relu1 -> conv2 -> add(relu1, conv2) -> gap -> flatten -> gemm -> y[2,10]
Builder conv_net() {
  Builder b;
  b.input("x", {2, 3, 8, 8});
  b.constant("w1", test::random_f32({8, 3, 3, 3}, 1, -0.5f, 0.5f));
  b.constant("b1", test::random_f32({8}, 2, -0.2f, 0.2f));
  b.constant("w2", test::random_f32({8, 8, 3, 3}, 3, -0.3f, 0.3f));
  b.constant("b2", test::random_f32({8}, 4, -0.2f, 0.2f));
  b.constant("wf", test::random_f32({10, 8}, 5, -1.f, 1.f));
  b.constant("bf", test::random_f32({10}, 6, -0.5f, 0.5f));
  b.constant("shape", Tensor::from_vector<int64_t>({2, 8}));
  b.node("conv1", "Conv", {"x", "w1", "b1"}, {"c1"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("relu1", "Relu", {"c1"}, {"r1"});
  b.node("conv2", "Conv", {"r1", "w2", "b2"}, {"c2"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("add", "Add", {"r1", "c2"}, {"a"});
  b.node("gap", "GlobalAveragePool", {"a"}, {"p"});
  b.node("reshape", "Reshape", {"p", "shape"}, {"f"});
  b.node("gemm", "Gemm", {"f", "wf", "bf"}, {"y"}).attrs["transB"] = ir::Attribute::make_int(1);
  b.output("y", {2, 10});
  return b;
}

std::unique_ptr<runtime::GraphExecutor> make_executor(const ir::Model& m, bool optimize = false) {
  SessionOptions o;
  o.num_threads = 1;
  o.optimize = optimize;
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status st = runtime::GraphExecutor::create(m, o, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return ex;
}

// Runs `m` and returns the requested values.
std::vector<Tensor> run(const ir::Model& m, const Tensor& x, const std::vector<std::string>& names,
                        bool optimize = false) {
  auto ex = make_executor(m, optimize);
  if (!ex) return {};
  std::vector<Tensor> out;
  Status st = ex->run({{m.graph.inputs[0].name, x}}, names, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return out;
}

// min/max of every float value of the model (input and node outputs) on x: what calibration would produce.
std::map<std::string, TensorRange> ranges_of(const ir::Model& m, const Tensor& x) {
  std::vector<std::string> names = {m.graph.inputs[0].name};
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs) names.push_back(o);
  std::vector<Tensor> vals = run(m, x, names);
  std::map<std::string, TensorRange> r;
  for (size_t i = 0; i < vals.size(); ++i) {
    if (vals[i].dtype() != DType::kF32) continue;
    TensorRange t{vals[i].data<float>()[0], vals[i].data<float>()[0]};
    for (int64_t k = 0; k < vals[i].numel(); ++k) {
      t.min = std::min(t.min, vals[i].data<float>()[k]);
      t.max = std::max(t.max, vals[i].data<float>()[k]);
    }
    r[names[i]] = t;
  }
  return r;
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

const ir::Node* find_node(const ir::Graph& g, const std::string& op, const std::string& output) {
  for (const auto& n : g.nodes)
    if (n.op_type == op && !n.outputs.empty() && n.outputs[0] == output) return &n;
  return nullptr;
}
// The QuantizeLinear reading value v, or null.
const ir::Node* quantizer_of(const ir::Graph& g, const std::string& v) {
  for (const auto& n : g.nodes)
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == v) return &n;
  return nullptr;
}
// The DequantizeLinear feeding input `slot` of node `name`, or null.
const ir::Node* dq_feeding(const ir::Graph& g, const std::string& name, size_t slot) {
  for (const auto& n : g.nodes)
    if (n.name == name) return find_node(g, "DequantizeLinear", n.inputs.at(slot));
  return nullptr;
}
int count_op(const ir::Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes) c += n.op_type == op;
  return c;
}

struct Quantized {
  ir::Model m;
  quant::QuantReport report;
  std::map<std::string, TensorRange> ranges;
};

Quantized quantize(const Builder& b, const Tensor& calib, const quant::QuantOptions& opt = {}) {
  Quantized q;
  q.m = b.m;
  q.ranges = ranges_of(b.m, calib);
  Status st = quant::insert_qdq(q.m, q.ranges, opt, &q.report);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return q;
}

TEST(Quant, QdqStructure) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 10);
  Quantized q = quantize(b, x);
  const ir::Graph& g = q.m.graph;
  // The graph input stays float; the first QuantizeLinear reads it.
  EXPECT_EQ(g.inputs[0].name, "x");
  EXPECT_EQ(g.inputs[0].dtype, DType::kF32);
  ASSERT_NE(quantizer_of(g, "x"), nullptr) << ir::dump(g);
  // Relu fused into conv1: c1 is not quantized, r1 is; conv2 output, add output, gap output are quantized;
  // reshape shares the gap's qparams; the graph output y stays float.
  EXPECT_EQ(quantizer_of(g, "c1"), nullptr);
  for (const char* v : {"r1", "c2", "a", "p", "f"}) EXPECT_NE(quantizer_of(g, v), nullptr) << v;
  EXPECT_EQ(quantizer_of(g, "y"), nullptr);
  EXPECT_EQ(count_op(g, "QuantizeLinear"), 6);
  // f shares p's scale (Reshape moves data only).
  const ir::Node* qp = quantizer_of(g, "p");
  const ir::Node* qf = quantizer_of(g, "f");
  EXPECT_EQ(g.initializers.at(qp->inputs[1]).data<float>()[0], g.initializers.at(qf->inputs[1]).data<float>()[0]);
  // Symmetric int8 activation: zero point 0, scale = max|range| / 127.
  const ir::Node* qx = quantizer_of(g, "x");
  const Tensor& zpx = g.initializers.at(qx->inputs[2]);
  EXPECT_EQ(zpx.dtype(), DType::kI8);
  EXPECT_EQ(zpx.data<int8_t>()[0], 0);
  const float sx = g.initializers.at(qx->inputs[1]).data<float>()[0];
  const TensorRange rx = q.ranges.at("x");
  EXPECT_FLOAT_EQ(sx, std::max(-rx.min, rx.max) / 127.f);

  // conv1's weight: per-channel int8 along axis 0, scale[c] = max|w[c]| / 127.
  const ir::Node* wdq = dq_feeding(g, "conv1", 1);
  ASSERT_NE(wdq, nullptr) << ir::dump(g);
  EXPECT_EQ(wdq->attr_int("axis", -1), 0);
  const Tensor& wq = g.initializers.at(wdq->inputs[0]);
  const Tensor& ws = g.initializers.at(wdq->inputs[1]);
  EXPECT_EQ(wq.dtype(), DType::kI8);
  ASSERT_EQ(ws.shape(), (Shape{8}));
  const Tensor& w1 = b.m.graph.initializers.at("w1");
  for (int c = 0; c < 8; ++c) {
    float a = 0;
    for (int k = 0; k < 27; ++k) a = std::max(a, std::fabs(w1.data<float>()[c * 27 + k]));
    EXPECT_FLOAT_EQ(ws.data<float>()[c], a / 127.f) << c;
    for (int k = 0; k < 27; ++k)
      EXPECT_EQ(wq.data<int8_t>()[c * 27 + k],
                qmath::saturate_cast<int8_t>(w1.data<float>()[c * 27 + k] / ws.data<float>()[c]));
  }
  // conv1's bias: int32, scale = sx * ws[c], values exact.
  const ir::Node* bdq = dq_feeding(g, "conv1", 2);
  ASSERT_NE(bdq, nullptr);
  const Tensor& bq = g.initializers.at(bdq->inputs[0]);
  const Tensor& bs = g.initializers.at(bdq->inputs[1]);
  ASSERT_EQ(bq.dtype(), DType::kI32);
  const Tensor& b1 = b.m.graph.initializers.at("b1");
  for (int c = 0; c < 8; ++c) {
    const float s = sx * ws.data<float>()[c];
    EXPECT_EQ(bs.data<float>()[c], s);
    EXPECT_EQ(bq.data<int32_t>()[c], static_cast<int32_t>(std::nearbyint(b1.data<float>()[c] / s))) << c;
  }
  // Gemm (transB = 1): weight per channel along axis 0 (10 output features), bias with the reshape's scale.
  const ir::Node* gdq = dq_feeding(g, "gemm", 1);
  ASSERT_NE(gdq, nullptr);
  EXPECT_EQ(gdq->attr_int("axis", -1), 0);
  EXPECT_EQ(g.initializers.at(gdq->inputs[1]).shape(), (Shape{10}));
  EXPECT_EQ(g.initializers.at(dq_feeding(g, "gemm", 2)->inputs[0]).dtype(), DType::kI32);
  // The float weights are gone.
  EXPECT_EQ(g.initializers.count("w1"), 0u);

  // Report: every original node, where and why.
  ASSERT_EQ(q.report.nodes.size(), 7u);
  EXPECT_EQ(q.report.count(Precision::kInt8), 7);
  const quant::NodeReport* relu = q.report.find("relu1");
  ASSERT_NE(relu, nullptr);
  EXPECT_NE(relu->why.find("fused"), std::string::npos) << relu->why;
  EXPECT_TRUE(relu->output_quantized);
  // A non-negative tensor uses the whole int8 grid on [0, max]: zero point -128.
  EXPECT_FLOAT_EQ(relu->output_scale, q.ranges.at("r1").max / 255.f);
  EXPECT_EQ(relu->output_zero_point, -128);
  EXPECT_NEAR(relu->output_threshold, q.ranges.at("r1").max, 1e-5f * q.ranges.at("r1").max);
  EXPECT_FALSE(q.report.find("conv1")->output_quantized);  // its own output is not quantized...
  EXPECT_EQ(q.report.find("conv1")->fused_with, "relu1");    // ...the Relu's range is used (log row conv1+relu1)
  EXPECT_EQ(relu->fused_with, "conv1");
  EXPECT_EQ(q.report.find("conv1")->output_threshold, relu->output_threshold);
  EXPECT_TRUE(q.report.find("conv2")->fused_with.empty());
  ASSERT_EQ(q.report.tensors.size(), 6u);
  EXPECT_EQ(q.report.tensors[0].name, "x");
  EXPECT_FLOAT_EQ(q.report.tensors[0].scale, sx);
  EXPECT_EQ(q.report.tensors.back().name, "f");
  EXPECT_EQ(q.report.tensors.back().shared_with, "p");
}

TEST(Quant, QdqModelIsCloseToFloat) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 11);
  Quantized q = quantize(b, x);
  Tensor ref = run(b.m, x, {"y"}).at(0);
  Tensor got = run(q.m, x, {"y"}).at(0);
  ASSERT_EQ(got.shape(), ref.shape());
  EXPECT_GT(cosine(got, ref), 0.999);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 0.05, 0.05, &why)) << why;
  EXPECT_FALSE(test::all_close(got, ref, 0, 0, &why));  // really quantized
  // The runtime's CPU pipeline (fusion, NHWC) runs the QDQ model too, with the same result up to float rounding.
  Tensor opt = run(q.m, x, {"y"}, true).at(0);
  EXPECT_TRUE(test::all_close(opt, got, 1e-4, 1e-4, &why)) << why;
}

TEST(Quant, AsymmetricActivations) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 12, -0.2f, 1.f);
  quant::QuantOptions opt;
  opt.asymmetric_activations = true;
  Quantized q = quantize(b, x, opt);
  const ir::Graph& g = q.m.graph;
  const ir::Node* qx = quantizer_of(g, "x");
  ASSERT_NE(qx, nullptr);
  EXPECT_NE(g.initializers.at(qx->inputs[2]).data<int8_t>()[0], 0);  // non-zero zero point
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);
}

TEST(Quant, UnsupportedOpStaysFloatAndIsReported) {
  Builder b;
  b.input("x", {1, 4, 6, 6});
  b.constant("w", test::random_f32({4, 4, 1, 1}, 1, 0.f, 1.f));
  b.node("conv", "Conv", {"x", "w"}, {"c"});
  b.node("sqrt", "Sqrt", {"c"}, {"fl"});
  b.node("relu", "Relu", {"fl"}, {"y"});
  b.output("y");
  quant::QuantOptions opt;
  opt.float_nodes = {"relu"};
  Tensor x = test::random_f32({1, 4, 6, 6}, 3, 0.f, 3.f);
  Quantized q = quantize(b, x, opt);
  const quant::NodeReport* fl = q.report.find("sqrt");
  ASSERT_NE(fl, nullptr);
  EXPECT_EQ(fl->where, Precision::kFloat);
  EXPECT_EQ(fl->why, "no int8 rule for op Sqrt");
  EXPECT_EQ(q.report.find("relu")->where, Precision::kFloat);
  EXPECT_NE(q.report.find("relu")->why.find("kept float"), std::string::npos);
  EXPECT_EQ(q.report.find("conv")->where, Precision::kInt8);
  EXPECT_NE(q.report.to_string().find("no int8 rule for op Sqrt"), std::string::npos);
  // conv's output is quantized (its consumer Floor reads the dequantized value); Floor's output is not.
  const ir::Graph& g = q.m.graph;
  EXPECT_NE(quantizer_of(g, "c"), nullptr);
  EXPECT_EQ(quantizer_of(g, "fl"), nullptr);
  EXPECT_EQ(find_node(g, "Sqrt", "fl")->inputs[0].find("c_dequantized"), 0u);
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.99);
}

TEST(Quant, Int16Selection) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 13);
  quant::QuantOptions opt;
  opt.int16_nodes = {"conv2"};
  Quantized q = quantize(b, x, opt);
  const ir::Graph& g = q.m.graph;
  EXPECT_EQ(q.report.find("conv2")->where, Precision::kInt16);
  EXPECT_EQ(q.report.find("conv1")->where, Precision::kInt8);
  EXPECT_EQ(q.report.count(Precision::kInt16), 1);
  // conv2's input r1 (int16 consumer) and output c2 are int16; x stays int8.
  EXPECT_EQ(g.initializers.at(quantizer_of(g, "r1")->inputs[2]).dtype(), DType::kI16);
  EXPECT_EQ(g.initializers.at(quantizer_of(g, "c2")->inputs[2]).dtype(), DType::kI16);
  EXPECT_EQ(g.initializers.at(quantizer_of(g, "x")->inputs[2]).dtype(), DType::kI8);
  EXPECT_FLOAT_EQ(q.report.find("conv2")->output_scale, std::max(-q.ranges.at("c2").min, q.ranges.at("c2").max) / 32767.f);
  EXPECT_FALSE(q.report.notes.empty());  // int16 QDQ below opset 21: com.microsoft Q/DQ in the ONNX files
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);

  quant::QuantOptions all;
  all.all_int16 = true;
  Quantized q16 = quantize(b, x, all);
  EXPECT_EQ(q16.report.count(Precision::kInt16), 7);
  Tensor got16 = run(q16.m, x, {"y"}).at(0);
  const double c16 = cosine(got16, ref);
  EXPECT_GT(c16, 0.9999);
  EXPECT_GT(c16, cosine(got, ref));  // int16 activations are closer to float than the int8/int16 mix
}

TEST(Quant, DegenerateRangeGivesFiniteScale) {
  Builder b;
  b.input("x", {1, 2, 4, 4});
  b.constant("w", Tensor::zeros(DType::kF32, {2, 2, 1, 1}));  // all-zero weight and output
  b.node("conv", "Conv", {"x", "w"}, {"c"});
  b.node("sig", "Sigmoid", {"c"}, {"y"});
  b.output("y");
  Tensor x = test::random_f32({1, 2, 4, 4}, 4);
  Quantized q = quantize(b, x);
  EXPECT_EQ(q.ranges.at("c").min, 0.f);
  EXPECT_EQ(q.ranges.at("c").max, 0.f);
  const ir::Graph& g = q.m.graph;
  const float s = g.initializers.at(quantizer_of(g, "c")->inputs[1]).data<float>()[0];
  EXPECT_TRUE(std::isfinite(s));
  EXPECT_GT(s, 0.f);
  const ir::Node* wdq = dq_feeding(g, "conv", 1);
  ASSERT_NE(wdq, nullptr);
  for (int c = 0; c < 2; ++c) EXPECT_GT(g.initializers.at(wdq->inputs[1]).data<float>()[c], 0.f);
  Tensor got = run(q.m, x, {"y"}).at(0);
  for (int64_t i = 0; i < got.numel(); ++i) EXPECT_FLOAT_EQ(got.data<float>()[i], 0.5f);
}

TEST(Quant, MissingRangeNamesTensorAndNode) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 14);
  std::map<std::string, TensorRange> r = ranges_of(b.m, x);
  r.erase("c2");
  ir::Model m = b.m;
  Status st = quant::insert_qdq(m, r, {}, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("'c2'"), std::string::npos) << st.to_string();
  EXPECT_NE(st.to_string().find("conv2"), std::string::npos) << st.to_string();
  r = ranges_of(b.m, x);
  r["x"] = TensorRange{1.f, -1.f};
  st = quant::insert_qdq(m, r, {}, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("'x'"), std::string::npos) << st.to_string();
}

// int16 tensors take the observed (unclipped) range when the method clipped it (percentile, KL): 65536 levels
// resolve the outliers; int8 tensors keep the clipped range.
TEST(Quant, Int16TensorsUseTheObservedRange) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 13);
  std::map<std::string, TensorRange> ranges = ranges_of(b.m, x);
  for (auto& [name, r] : ranges) {  // as if the method had clipped every range to half of what was observed
    r.observed_min = r.min;
    r.observed_max = r.max;
    r.min *= 0.5f;
    r.max *= 0.5f;
  }
  quant::QuantOptions opt;
  opt.int16_nodes = {"conv2"};
  ir::Model m = b.m;
  quant::QuantReport report;
  ASSERT_TRUE(quant::insert_qdq(m, ranges, opt, &report).ok());
  const TensorRange& c2 = ranges.at("c2");
  EXPECT_FLOAT_EQ(report.find("conv2")->output_scale, std::max(-c2.observed_min, c2.observed_max) / 32767.f);
  const TensorRange& xr = ranges.at("x");
  const float xs = m.graph.initializers.at(quantizer_of(m.graph, "x")->inputs[1]).data<float>()[0];
  EXPECT_LE(xs, std::max(-xr.min, xr.max) / 127.f * 1.0001f);  // int8: the clipped range
}

TEST(Quant, MaxPoolSharesAndConcatRequantizes) {
  Builder b;
  b.input("x", {1, 4, 6, 6});
  b.constant("w", test::random_f32({4, 4, 3, 3}, 21, -0.3f, 0.3f));
  b.constant("k", test::random_f32({1, 2, 3, 3}, 22));
  b.node("conv", "Conv", {"x", "w"}, {"c"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  auto& mp = b.node("pool", "MaxPool", {"c"}, {"m"});
  mp.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
  mp.attrs["strides"] = ir::Attribute::make_ints({2, 2});
  b.node("sig", "Sigmoid", {"m"}, {"s"});
  b.node("cat", "Concat", {"s", "m", "k"}, {"y"}).attrs["axis"] = ir::Attribute::make_int(1);
  b.output("y");
  Tensor x = test::random_f32({1, 4, 6, 6}, 23);
  Quantized q = quantize(b, x);
  const ir::Graph& g = q.m.graph;
  EXPECT_EQ(g.initializers.at(quantizer_of(g, "c")->inputs[1]).data<float>()[0],
            g.initializers.at(quantizer_of(g, "m")->inputs[1]).data<float>()[0]);
  EXPECT_NE(quantizer_of(g, "s"), nullptr);
  // The constant concat input is an int8 initializer behind a DequantizeLinear.
  const ir::Node* kdq = dq_feeding(g, "cat", 2);
  ASSERT_NE(kdq, nullptr);
  EXPECT_EQ(g.initializers.at(kdq->inputs[0]).dtype(), DType::kI8);
  EXPECT_EQ(q.report.count(Precision::kInt8), 4);
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);
}

void check_with_ort(const ir::Model& m, const Tensor& x, double atol) {
  test::check_model_with_ort(m, x, run(m, x, {m.graph.outputs[0].name}).at(0), atol);
}

TEST(Quant, ExportedModelPassesCheckerAndMatchesOrt) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 15);
  Quantized q = quantize(b, x);
  // Allowed difference: one LSB flip of every Gemm input (the last quantized tensor), times the weight row sums.
  const float s = q.report.find("reshape")->output_scale;
  const Tensor& wf = b.m.graph.initializers.at("wf");
  double row = 0;
  for (int n = 0; n < 10; ++n) {
    double r = 0;
    for (int k = 0; k < 8; ++k) r += std::fabs(wf.data<float>()[n * 8 + k]);
    row = std::max(row, r);
  }
  check_with_ort(q.m, x, s * row + 1e-5);
  quant::QuantOptions asym;
  asym.asymmetric_activations = true;
  Quantized qa = quantize(b, x, asym);
  check_with_ort(qa.m, x, qa.report.find("reshape")->output_scale * row + 1e-5);
}

TEST(Quant, FmnistModel) {
  ir::Model m;
  Status st = frontend::load_onnx(test::shared_dir() + "/models/fmnist/fmnist_cnn.onnx", &m);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_TRUE(passes::optimize_standard(m).ok());
  Builder b;
  b.m = m;
  Tensor x = test::random_f32({4, 1, 28, 28}, 31, 0.f, 1.f);
  Quantized q = quantize(b, x);
  EXPECT_EQ(q.report.count(Precision::kFloat), 0) << q.report.to_string();
  EXPECT_EQ(q.report.nodes.size(), m.graph.nodes.size());
  const std::string out = m.graph.outputs[0].name;
  Tensor ref = run(m, x, {out}).at(0), got = run(q.m, x, {out}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);
  // The last quantized tensor is the Gemm input: allow one LSB of it times the largest weight row sum.
  const ir::Node& gemm = m.graph.nodes.back();
  ASSERT_EQ(gemm.op_type, "Gemm");
  const quant::NodeReport* flat = q.report.find(m.graph.nodes[m.graph.nodes.size() - 2].name);
  ASSERT_NE(flat, nullptr);
  const Tensor& w = m.graph.initializers.at(gemm.inputs[1]);
  double row = 0;
  const bool tb = gemm.attr_int("transB", 0) != 0;
  const int64_t N = tb ? w.dim(0) : w.dim(1), K = tb ? w.dim(1) : w.dim(0);
  for (int64_t n = 0; n < N; ++n) {
    double r = 0;
    for (int64_t k = 0; k < K; ++k) r += std::fabs(w.data<float>()[tb ? n * K + k : k * N + n]);
    row = std::max(row, r);
  }
  check_with_ort(q.m, x, flat->output_scale * row + 1e-5);
}

TEST(Quant, MatMulAndConvTransposeWeightAxes) {
  Builder b;
  b.input("x", {1, 4, 5, 5});
  b.constant("wt", test::random_f32({4, 3, 2, 2}, 41, -0.5f, 0.5f));  // ConvTranspose W [C_in, C_out, kh, kw]
  b.constant("bt", test::random_f32({3}, 42));
  b.constant("wm", test::random_f32({6, 10}, 43));                   // MatMul B [K, N]
  b.node("deconv", "ConvTranspose", {"x", "wt", "bt"}, {"d"});       // d: [1, 3, 6, 6]
  b.node("mm", "MatMul", {"d", "wm"}, {"y"});
  b.output("y", {1, 3, 6, 10});
  Tensor x = test::random_f32({1, 4, 5, 5}, 44);
  Quantized q = quantize(b, x);
  const ir::Graph& g = q.m.graph;
  const ir::Node* tdq = dq_feeding(g, "deconv", 1);
  ASSERT_NE(tdq, nullptr);
  EXPECT_EQ(tdq->attr_int("axis", -1), 1);
  EXPECT_EQ(g.initializers.at(tdq->inputs[1]).shape(), (Shape{3}));
  EXPECT_EQ(g.initializers.at(dq_feeding(g, "deconv", 2)->inputs[0]).dtype(), DType::kI32);
  const ir::Node* mdq = dq_feeding(g, "mm", 1);
  ASSERT_NE(mdq, nullptr);
  EXPECT_EQ(mdq->attr_int("axis", -1), 1);
  EXPECT_EQ(g.initializers.at(mdq->inputs[1]).shape(), (Shape{10}));
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);
  check_with_ort(q.m, x, 0.05);
}

TEST(Quant, PerTensorWeightsBeforeOpset13) {
  Builder b = conv_net();
  b.m.opsets[""] = 11;
  b.m.graph.nodes[5].op_type = "Flatten";  // Reshape's shape input is fine at 11, but keep the graph simple
  b.m.graph.nodes[5].inputs = {"p"};
  Tensor x = test::random_f32({2, 3, 8, 8}, 16);
  Quantized q = quantize(b, x);
  const ir::Graph& g = q.m.graph;
  const ir::Node* wdq = dq_feeding(g, "conv1", 1);
  ASSERT_NE(wdq, nullptr);
  EXPECT_FALSE(wdq->has_attr("axis"));
  EXPECT_EQ(g.initializers.at(wdq->inputs[1]).numel(), 1);
  EXPECT_EQ(g.initializers.at(dq_feeding(g, "conv1", 2)->inputs[1]).numel(), 1);
  EXPECT_FALSE(q.report.notes.empty());
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.998);
  check_with_ort(q.m, x, 0.1);
}

// int16 QuantizeLinear/DequantizeLinear are standard from opset 21: such a model passes the checker and runs the
// same in onnxruntime (insert_qdq never changes the opset; below 21 they are written as com.microsoft contrib ops,
// see qdq_domain_test.cc).
TEST(Quant, Int16AtOpset21PassesCheckerAndOrt) {
  Builder b = conv_net();
  b.m.opsets[""] = 21;
  Tensor x = test::random_f32({2, 3, 8, 8}, 13);
  quant::QuantOptions all;
  all.all_int16 = true;
  Quantized q = quantize(b, x, all);
  EXPECT_TRUE(q.report.notes.empty());
  EXPECT_EQ(q.m.opset(), 21);
  check_with_ort(q.m, x, 0.01);
}

// x * clip(x + 3, 0, 6) / 6 (hard-swish as exported by Paddle): every node int8, the divisor stays a float constant.
TEST(Quant, HardSwishPatternWithDivByConstant) {
  Builder b;
  b.input("x", {1, 4, 5, 5});
  b.constant("w", test::random_f32({4, 4, 1, 1}, 51));
  b.constant("three", Tensor::from_vector<float>({3.f}));
  b.constant("zero", Tensor::from_vector<float>({0.f}));
  b.constant("six", Tensor::from_vector<float>({6.f}));
  b.node("conv", "Conv", {"x", "w"}, {"c"});
  b.node("add3", "Add", {"c", "three"}, {"a"});
  b.node("clip", "Clip", {"a", "zero", "six"}, {"k"});
  b.node("mul", "Mul", {"c", "k"}, {"m"});
  b.node("div", "Div", {"m", "six"}, {"y"});
  b.output("y", {1, 4, 5, 5});
  Tensor x = test::random_f32({1, 4, 5, 5}, 52, -2.f, 2.f);
  Quantized q = quantize(b, x);
  EXPECT_EQ(q.report.count(Precision::kInt8), 5) << q.report.to_string();
  EXPECT_EQ(q.report.find("div")->why, "int division by a float constant");
  const ir::Graph& g = q.m.graph;
  const ir::Node* div = find_node(g, "Div", "y");
  ASSERT_NE(div, nullptr);
  EXPECT_EQ(div->inputs[1], "six");  // float divisor, not quantized
  EXPECT_NE(dq_feeding(g, "div", 0), nullptr);
  // The Add's constant 3 is an int8 initializer behind a DequantizeLinear; 3 is exact (scale 3/127).
  const ir::Node* tdq = dq_feeding(g, "add3", 1);
  ASSERT_NE(tdq, nullptr);
  EXPECT_EQ(g.initializers.at(tdq->inputs[0]).data<int8_t>()[0], 127);
  Tensor ref = run(b.m, x, {"y"}).at(0), got = run(q.m, x, {"y"}).at(0);
  EXPECT_GT(cosine(got, ref), 0.999);
  check_with_ort(q.m, x, 0.05);
}

TEST(Quant, BadInputsGiveClearErrors) {
  Builder b = conv_net();
  Tensor x = test::random_f32({2, 3, 8, 8}, 17);
  std::map<std::string, TensorRange> r = ranges_of(b.m, x);
  ir::Model m9 = b.m;
  m9.opsets[""] = 9;
  Status st = quant::insert_qdq(m9, r, {}, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("opset >= 10"), std::string::npos) << st.to_string();
  r["r1"] = TensorRange{std::nanf(""), 1.f};
  ir::Model m = b.m;
  st = quant::insert_qdq(m, r, {}, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("'r1'"), std::string::npos) << st.to_string();
  EXPECT_NE(st.to_string().find("not finite"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace kaiwu
