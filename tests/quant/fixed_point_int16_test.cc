// The QDQ -> fixed-point lowering of int16 nodes (QuantOptions.all_int16 and a single int16 node in an int8 model):
// every int16 node becomes an integer op (reported as int16), and the fixed-point model agrees with the QDQ model
// run by the runtime (DequantizeLinear -> float op -> QuantizeLinear, reference kernels): within 1 LSB on >= 99.9%
// of the elements of the last quantized tensor, float output cosine >= 0.99999, 1 vs 2 threads bit-identical.
// Models: one built in code with every lowered pattern, and the fmnist CNN when /work/shared has it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "passes/passes.h"
#include "model_builder.h"
#include "ops/op_def.h"
#include "quant/fixed_point.h"
#include "ir/qdq.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"
#include "test_util.h"

namespace kaiwu {
namespace {

using Builder = test::ModelBuilder;

// x[1,3,12,12] -> conv1+relu -> conv2 -> add(relu1) -> sigmoid -> mul(add) -> maxpool -> [conv3+clip6 , avgpool]
// -> concat -> gap -> reshape -> gemm -> div 2 -> relu -> y[1,10]
ir::Model pattern_net() {
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
  return b.m;
}

std::vector<Tensor> run(const ir::Model& m, const NamedTensors& feeds, const std::vector<std::string>& names,
                        bool optimize, int threads = 1, bool ref = false) {
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

struct Net {
  ir::Model float_model;
  std::string input, output;
  Shape shape;
  float lo = -2.f, hi = 2.f;
};

Net pattern() { return {pattern_net(), "x", "y", {1, 3, 12, 12}}; }

// The QDQ model calibrated by min/max over a few random inputs.
ir::Model qdq_model(const Net& net, const quant::QuantOptions& qo) {
  ir::Model m = net.float_model;
  std::vector<std::string> names = {net.input};
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs) names.push_back(o);
  std::map<std::string, quant::TensorRange> ranges;
  for (unsigned seed = 10; seed < 14; ++seed) {
    auto vals = run(m, {{net.input, test::random_f32(net.shape, seed, net.lo, net.hi)}}, names, false);
    for (size_t i = 0; i < vals.size(); ++i) {
      if (vals[i].dtype() != DType::kF32) continue;
      auto it = ranges.find(names[i]);
      quant::TensorRange r = it == ranges.end() ? quant::TensorRange{1e30f, -1e30f} : it->second;
      for (int64_t k = 0; k < vals[i].numel(); ++k) {
        r.min = std::min(r.min, vals[i].data<float>()[k]);
        r.max = std::max(r.max, vals[i].data<float>()[k]);
      }
      ranges[names[i]] = r;
    }
  }
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

// True if MaxPool has an int16 kernel in this runtime (else the lowering keeps int16 max pooling in float).
bool max_pool_has_int16() {
  ir::Node n;
  n.name = "p";
  n.op_type = "MaxPool";
  n.inputs = {"x"};
  n.outputs = {"y"};
  n.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
  const ops::OpDef* def = ops::find_op("", "MaxPool");
  std::vector<ops::TensorDesc> in = {{DType::kI16, {1, 1, 4, 4}}};
  ops::InferContext ctx(n, 13, in, {nullptr});
  if (!def || !def->infer(ctx).ok()) return false;
  ops::KernelInit ki{n, 13, in, ctx.outputs, {nullptr}, 1, true};
  std::unique_ptr<ops::Kernel> k;
  return def->create(ki, &k).ok();
}

// The integer tensor (QuantizeLinear output) of the float tensor `v` in the QDQ model.
std::string quantized_name(const ir::Model& qdq, const std::string& v) {
  for (const auto& n : qdq.graph.nodes)
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == v) return n.outputs[0];
  return "";
}

// Checks the lowering report: every compute node is integer except the graph-output producers `float_ok` (and
// int16 max pooling while MaxPool has no int16 kernel); `int16` nodes say so.
void check_report(const quant::LowerReport& r, const std::set<std::string>& float_ok,
                  const std::set<std::string>& int16, bool all_int16) {
  const bool mp16 = max_pool_has_int16();
  if (std::getenv("KW_INT16_DEBUG"))
    for (const auto& n : r.nodes) std::printf("  %-22s %-18s %d %s\n", n.name.c_str(), n.op_type.c_str(), n.integer, n.how.c_str());
  for (const auto& n : r.nodes) {
    if (!n.integer) {
      const bool allowed = float_ok.count(n.name) ||
                           (!mp16 && n.op_type == "MaxPool" && n.how.find("no int16 kernel") != std::string::npos);
      EXPECT_TRUE(allowed) << n.name << " (" << n.op_type << ") stays float: " << n.how;
      continue;
    }
    const bool says = n.how.find("(int16)") != std::string::npos;
    if (int16.count(n.name) || all_int16) {
      EXPECT_TRUE(says) << n.name << ": " << n.how;
    }
  }
}

// Fixed-point vs QDQ: the last quantized tensor `last` (integer values) and the float output.
// `extra`: intermediate tensors also compared (>= 99% within 1 LSB: errors of earlier layers accumulate there too).
// all_int16: every integer op is int16, whose kernels are bit-identical (optimized == reference).
void check_agreement(const Net& net, const ir::Model& q, const ir::Model& f, const std::string& last, unsigned seeds,
                     bool all_int16, const std::vector<std::string>& extra = {}) {
  const std::string lq = quantized_name(q, last);
  ASSERT_FALSE(lq.empty());
  int64_t total = 0, within = 0, within_ref = 0, extra_total = 0, extra_within = 0;
  double worst = 1.0, worst_ref = 1.0;
  for (unsigned seed = 20; seed < 20 + seeds; ++seed) {
    Tensor x = test::random_f32(net.shape, seed, net.lo, net.hi);
    std::vector<std::string> names = {net.output, lq};
    for (const auto& e : extra) {  // the QuantizeLinear output of e that the fixed-point model kept
      for (const auto& n : q.graph.nodes) {
        if (n.op_type != "QuantizeLinear" || n.inputs[0] != e) continue;
        bool kept = false;
        for (const auto& fn : f.graph.nodes)
          for (const auto& o : fn.outputs) kept = kept || o == n.outputs[0];
        if (kept) {
          names.push_back(n.outputs[0]);
          break;
        }
      }
    }
    // Intermediates are compared on unoptimized runs (the optimizer may fuse them away).
    const std::vector<std::string> ends(names.begin(), names.begin() + 2);
    auto want = run(q, {{net.input, x}}, names, false, 1, true);
    auto got = run(f, {{net.input, x}}, ends, true, 1);
    auto got2 = run(f, {{net.input, x}}, ends, true, 2);
    auto got_ref = run(f, {{net.input, x}}, names, false, 2, true);
    ASSERT_EQ(want.size(), names.size());
    ASSERT_EQ(got.size(), 2u);
    ASSERT_EQ(got2.size(), 2u);
    ASSERT_EQ(got_ref.size(), names.size());
    ASSERT_EQ(want[1].dtype(), got[1].dtype());
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(std::memcmp(got[i].raw(), got2[i].raw(), got[i].nbytes()), 0) << "thread count changed the bits";
      // The integer tensor: bit-identical kernels. (The float output may come from a float op, e.g. fmnist's Gemm.)
      if (all_int16 && i == 1) {
        EXPECT_EQ(std::memcmp(got[i].raw(), got_ref[i].raw(), got[i].nbytes()), 0) << "optimized != reference";
      }
    }
    // The optimized int8 convolutions requantize inside oneDNN (within 1 LSB of the reference), so the reference
    // run of the fixed-point model is held to the same bound rather than to bit identity.
    for (int64_t k = 0; k < want[1].numel(); ++k) {
      within += std::llabs(want[1].get_i64(k) - got[1].get_i64(k)) <= 1;
      within_ref += std::llabs(want[1].get_i64(k) - got_ref[1].get_i64(k)) <= 1;
      ++total;
    }
    for (size_t i = 2; i < names.size(); ++i)
      for (int64_t k = 0; k < want[i].numel(); ++k) {
        extra_within += std::llabs(want[i].get_i64(k) - got_ref[i].get_i64(k)) <= 1;
        ++extra_total;
      }
    worst = std::min(worst, cosine(want[0], got[0]));
    worst_ref = std::min(worst_ref, cosine(want[0], got_ref[0]));
  }
  if (std::getenv("KW_INT16_DEBUG"))
    std::printf("  %s: %lld / %lld within 1 LSB (reference run %lld), worst cosine %.9f (reference run %.9f)\n",
                last.c_str(), static_cast<long long>(within), static_cast<long long>(total),
                static_cast<long long>(within_ref), worst, worst_ref);
  if (std::getenv("KW_INT16_DEBUG") && extra_total)
    std::printf("  intermediates: %lld / %lld within 1 LSB\n", static_cast<long long>(extra_within),
                static_cast<long long>(extra_total));
  EXPECT_GE(extra_within, extra_total - extra_total / 100) << extra_within << " of " << extra_total;
  EXPECT_GE(within, total - total / 1000) << within << " of " << total << " within 1 LSB";
  EXPECT_GE(within_ref, total - total / 1000) << within_ref << " of " << total << " within 1 LSB (reference run)";
  EXPECT_GE(worst, 0.99999);
  EXPECT_GE(worst_ref, 0.99999);
}

// The all-int16 QDQ model of `net` (q) and its fixed-point lowering (f).
bool lower_all_int16(const Net& net, ir::Model* q, ir::Model* f, quant::LowerReport* r) {
  quant::QuantOptions qo;
  qo.all_int16 = true;
  *q = qdq_model(net, qo);
  Status st = quant::lower_to_fixed_point(*q, f, r);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return st.ok();
}

TEST(FixedPointInt16, AllInt16PatternNetLowersEveryNode) {
  const Net net = pattern();
  ir::Model q, f;
  quant::LowerReport r;
  ASSERT_TRUE(lower_all_int16(net, &q, &f, &r));
  check_report(r, {"relu_out"}, {}, true);
  EXPECT_EQ(count_op(f.graph, "", "QLinearConv"), 4);  // conv1, conv2, conv3, gemm as 1x1
  EXPECT_EQ(count_op(f.graph, "", "Conv"), 0);
  EXPECT_EQ(count_op(f.graph, "", "Gemm"), 0);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAdd"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QMul"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAveragePool"), 1);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QGlobalAveragePool"), 1);
  EXPECT_GE(count_op(f.graph, "kaiwu", "QLut"), 1);  // sigmoid (+ clamps of symmetric int16 relu / clip outputs)
  for (const auto& n : f.graph.nodes)
    if (n.op_type == "QLut") {
      const Tensor& t = f.graph.initializers.at(n.inputs[1]);
      EXPECT_EQ(t.numel(), 65536);
      EXPECT_EQ(t.dtype(), DType::kI16);
    }
  check_agreement(net, q, f, "d", 6, true, {"c2", "a", "sw", "cc"});
}

// A PP-LCNet block, all int16: conv -> HardSwish -> Mul(scalar) -> Add(scalar) (the learnable affine) -> conv ->
// Relu -> conv -> Sigmoid. The activation chain becomes one composed 65536-entry table (no QMul / QAdd); the Relu after the
// int16 convolution is a clamp table that the CPU passes fuse into the convolution (y_min / y_max). Both models
// agree with the QDQ model like the pattern net.
TEST(FixedPointInt16, AffineChainComposesAndReluClampFuses) {
  Builder b;
  b.input("x", {1, 8, 6, 6});
  b.constant("w1", test::random_f32({16, 8, 1, 1}, 31, -0.6f, 0.6f));
  b.constant("w2", test::random_f32({16, 16, 1, 1}, 32, -0.4f, 0.4f));
  b.constant("w3", test::random_f32({4, 16, 1, 1}, 33, -0.4f, 0.4f));
  b.constant("sa", Tensor::from_vector<float>({1.3f}));
  b.constant("sb", Tensor::from_vector<float>({-0.2f}));
  b.node("conv1", "Conv", {"x", "w1"}, {"c1"});
  b.node("hs", "HardSwish", {"c1"}, {"h"});
  b.node("lab_mul", "Mul", {"h", "sa"}, {"hm"});
  b.node("lab_add", "Add", {"hm", "sb"}, {"ha"});
  b.node("conv2", "Conv", {"ha", "w2"}, {"c2"});
  b.node("relu2", "Relu", {"c2"}, {"r2"});
  b.node("conv3", "Conv", {"r2", "w3"}, {"c3"});
  b.node("sig_out", "Sigmoid", {"c3"}, {"y"});
  b.output("y", {1, 4, 6, 6});
  const Net net{b.m, "x", "y", {1, 8, 6, 6}};
  ir::Model q, f;
  quant::LowerReport r;
  ASSERT_TRUE(lower_all_int16(net, &q, &f, &r));
  check_report(r, {"sig_out"}, {}, true);
  if (std::getenv("KW_INT16_DEBUG"))
    for (const auto& n : f.graph.nodes) std::printf("  %s %s %s -> %s\n", n.name.c_str(), n.op_type.c_str(), n.inputs[0].c_str(), n.outputs[0].c_str());
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QMul"), 0);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QAdd"), 0);
  EXPECT_EQ(count_op(f.graph, "kaiwu", "QLut"), 2);  // hs o mul o add, and relu2's clamp
  int clamp_tables = 0;
  for (const auto& n : f.graph.nodes)
    if (n.op_type == "QLut") {
      const Tensor& t = f.graph.initializers.at(n.inputs[1]);
      EXPECT_EQ(t.numel(), 65536);
      bool clamp = true;  // T[i] = clamp(i - 32768, T[0], T[65535])
      const int16_t* v = t.data<int16_t>();
      for (int64_t i = 0; i < 65536 && clamp; ++i) clamp = v[i] == std::clamp<int64_t>(i - 32768, v[0], v[65535]);
      clamp_tables += clamp;
    }
  EXPECT_EQ(clamp_tables, 1);
  // The CPU passes fuse the clamp into conv2 (NHWC kaiwu.QLinearConv); the optimized run (direct int16 kernels,
  // fused clamp) is bit-identical to the plain one, and both agree with the QDQ model.
  ir::Model opt = f;
  ASSERT_TRUE(passes::optimize_for_cpu(opt).ok());
  EXPECT_EQ(count_op(opt.graph, "kaiwu", "QLut"), 1);
  int fused = 0;
  for (const auto& n : opt.graph.nodes) fused += n.op_type == "QLinearConv" && n.has_attr("y_min");
  EXPECT_EQ(fused, 1);
  for (unsigned seed = 40; seed < 44; ++seed) {
    NamedTensors feeds = {{"x", test::random_f32(net.shape, seed, net.lo, net.hi)}};
    // Same float kernels (the Sigmoid) in both runs, so any difference would come from the integer ops.
    auto a = run(f, feeds, {"y", "r2_quantized"}, false, 1), c = run(f, feeds, {"y"}, true, 2);
    auto want = run(q, feeds, {"y"}, false, 1, true);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(c.size(), 1u);
    ASSERT_EQ(want.size(), 1u);
    EXPECT_EQ(std::memcmp(a[0].raw(), c[0].raw(), a[0].nbytes()), 0);
    EXPECT_GE(cosine(want[0], a[0]), 0.99999);
    int64_t negative = 0;  // the clamp holds: relu2's int16 output is never below its zero point
    for (int64_t k = 0; k < a[1].numel(); ++k) negative += a[1].data<int16_t>()[k] < 0;
    EXPECT_EQ(negative, 0);
  }
}

// Each node in turn as the only int16 node: int8 / int16 boundaries at every kind of op.
TEST(FixedPointInt16, SingleInt16NodeInInt8Model) {
  const Net net = pattern();
  for (const char* node : {"conv1", "relu1", "conv2", "add", "sig", "mul", "conv3", "avg", "cat", "gap", "gemm", "div"}) {
    SCOPED_TRACE(node);
    quant::QuantOptions qo;
    qo.int16_nodes = {node};
    ir::Model q = qdq_model(net, qo);
    ir::Model f;
    quant::LowerReport r;
    ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, &r).ok());
    check_report(r, {"relu_out"}, {node}, false);
    int to16 = 0;
    for (const auto& fn : f.graph.nodes) to16 += fn.name.find("_to_int16") != std::string::npos;
    // An int16 Add next to an int8 operand: the int8 one is requantized to int16 first (QAdd reads one type).
    if (std::string(node) == "add") {
      EXPECT_EQ(to16, 1);
    }
    int int16_reported = 0;
    for (const auto& n : r.nodes) int16_reported += n.how.find("(int16)") != std::string::npos;
    EXPECT_GE(int16_reported, 1);
    check_agreement(net, q, f, "d", 4, false, {"a", "sw"});
  }
}

// Each activation tensor in turn as the only int16 tensor (QuantOptions::int16_tensors, what automatic mixed
// precision raises): its int8 producer writes int16 and its int8 readers read it, with no float fallback.
TEST(FixedPointInt16, SingleInt16TensorInInt8Model) {
  const Net net = pattern();
  for (const char* t : {"x", "r1", "c2", "a", "s", "sw", "p", "k", "cc", "f", "z"}) {
    SCOPED_TRACE(t);
    quant::QuantOptions qo;
    qo.int16_tensors = {t};
    ir::Model q = qdq_model(net, qo);
    int q16 = 0;
    for (const auto& n : q.graph.nodes)
      if (ir::is_quantize_linear(n) && n.inputs[0] == t) q16 += q.graph.initializers.at(n.inputs[2]).dtype() == DType::kI16;
    EXPECT_EQ(q16, 1) << "one int16 QuantizeLinear on " << t;
    ir::Model f;
    quant::LowerReport r;
    ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, &r).ok());
    check_report(r, {"relu_out"}, {}, false);
    check_agreement(net, q, f, "d", 2, false, {"a", "sw"});
  }
}

TEST(FixedPointInt16, OnnxAndDeployableRoundTripsAreBitIdentical) {
  const Net net = pattern();
  quant::QuantOptions qo;
  qo.all_int16 = true;
  ir::Model q = qdq_model(net, qo);
  ir::Model f;
  ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, nullptr).ok());
  const std::string dir = ::testing::TempDir();
  const std::string onnx_path = dir + "/kw_fixed_point_int16_test.onnx", kwm_path = dir + "/kw_fixed_point_int16_test.kwm";
  ASSERT_TRUE(frontend::save_onnx(f, onnx_path).ok());
  ir::Model back;
  ASSERT_TRUE(frontend::load_onnx(onnx_path, &back).ok());
  ir::Model opt = back;
  ASSERT_TRUE(passes::optimize_for_cpu(opt).ok());
  ASSERT_TRUE(deploy::write_deployable(opt, {"test", "generic", "{}"}, kwm_path).ok());
  ir::Model dm;
  deploy::DeployInfo info;
  ASSERT_TRUE(deploy::read_deployable(kwm_path, &dm, &info).ok());
  Tensor x = test::random_f32(net.shape, 31, net.lo, net.hi);
  auto a = run(f, {{"x", x}}, {"y"}, true);
  auto b = run(back, {{"x", x}}, {"y"}, true);
  auto c = run(dm, {{"x", x}}, {"y"}, false);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()), 0);
  EXPECT_EQ(std::memcmp(a[0].raw(), c[0].raw(), a[0].nbytes()), 0);
}

Net fmnist() {
  Net n;
  n.input = "input";
  n.shape = {1, 1, 28, 28};
  n.lo = 0.f;
  n.hi = 1.f;
  const std::string path = "/work/shared/models/fmnist/fmnist_cnn.onnx";
  if (!std::ifstream(path).good() || !frontend::load_onnx(path, &n.float_model).ok()) return n;
  n.output = n.float_model.graph.outputs.at(0).name;
  return n;
}

TEST(FixedPointInt16, FmnistAllInt16AndSingleNode) {
  const Net net = fmnist();
  if (net.output.empty()) GTEST_SKIP() << "fmnist model not available";
  // The last quantized tensor: the input of the final Gemm (its output is the float graph output).
  std::string last;
  for (const auto& n : net.float_model.graph.nodes)
    if (n.op_type == "Gemm") last = n.inputs[0];
  ASSERT_FALSE(last.empty());
  std::set<std::string> float_ok;
  for (const auto& n : net.float_model.graph.nodes)
    if (n.outputs[0] == net.output) float_ok.insert(n.name);
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant);
    quant::QuantOptions qo;
    qo.all_int16 = variant == 0;
    if (variant == 1) qo.int16_nodes = {"/dw/dw.0/Conv"};
    ir::Model q = qdq_model(net, qo);
    ir::Model f;
    quant::LowerReport r;
    ASSERT_TRUE(quant::lower_to_fixed_point(q, &f, &r).ok());
    check_report(r, float_ok, variant == 1 ? std::set<std::string>{"/dw/dw.0/Conv"} : std::set<std::string>{},
                 variant == 0);
    EXPECT_EQ(count_op(f.graph, "", "Conv"), 0);
    std::vector<std::string> extra;
    for (const auto& n : net.float_model.graph.nodes)
      if (n.name == "/Add" || n.name == "/c1/c1.2/Relu" || n.name == "/pw/pw.0/Conv") extra.push_back(n.outputs[0]);
    check_agreement(net, q, f, last, 2, variant == 0, extra);
  }
}

}  // namespace
}  // namespace kaiwu
