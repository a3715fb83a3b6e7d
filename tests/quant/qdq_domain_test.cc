// Domains of QuantizeLinear / DequantizeLinear (ir/qdq.h): 16-bit Q/DQ below opset 21 are written in the
// com.microsoft domain (onnxruntime contrib ops, opset import com.microsoft 1) so the stage models stay valid ONNX
// that onnx.checker accepts and onnxruntime runs; int8 ones stay standard; the importer maps com.microsoft Q/DQ back
// to the default domain, and the runtime also runs com.microsoft Q/DQ built in code.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/npy.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "ir/qdq.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"
#include "model_builder.h"
#include "ort_check.h"
#include "test_util.h"

namespace kaiwu {
namespace {

using Builder = test::ModelBuilder;

// x[1,3,6,6] -> conv1 -> relu1 -> conv2 -> add(relu1, conv2) -> y
Builder small_net(int64_t opset) {
  Builder b(opset);
  b.input("x", {1, 3, 6, 6});
  b.constant("w1", test::random_f32({4, 3, 3, 3}, 1, -0.5f, 0.5f));
  b.constant("b1", test::random_f32({4}, 2, -0.2f, 0.2f));
  b.constant("w2", test::random_f32({4, 4, 3, 3}, 3, -0.3f, 0.3f));
  b.node("conv1", "Conv", {"x", "w1", "b1"}, {"c1"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("relu1", "Relu", {"c1"}, {"r1"});
  b.node("conv2", "Conv", {"r1", "w2"}, {"c2"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("add", "Add", {"r1", "c2"}, {"y"});
  b.output("y", {1, 4, 6, 6});
  return b;
}

std::vector<Tensor> run(const ir::Model& m, const Tensor& x, const std::vector<std::string>& names) {
  SessionOptions o;
  o.num_threads = 1;
  o.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status st = runtime::GraphExecutor::create(m, o, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!ex) return {};
  std::vector<Tensor> out;
  st = ex->run({{m.graph.inputs[0].name, x}}, names, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return out;
}

// The QDQ model of `b` with min/max ranges from x and the given options.
ir::Model quantize(const Builder& b, const Tensor& x, const quant::QuantOptions& opt, quant::QuantReport* rep) {
  std::vector<std::string> names = {"x"};
  for (const auto& n : b.m.graph.nodes) names.push_back(n.outputs[0]);
  std::vector<Tensor> vals = run(b.m, x, names);
  std::map<std::string, quant::TensorRange> r;
  for (size_t i = 0; i < vals.size(); ++i) {
    quant::TensorRange t{0.f, 0.f};
    for (int64_t k = 0; k < vals[i].numel(); ++k) {
      t.min = std::min(t.min, vals[i].data<float>()[k]);
      t.max = std::max(t.max, vals[i].data<float>()[k]);
    }
    r[names[i]] = t;
  }
  ir::Model m = b.m;
  Status st = quant::insert_qdq(m, r, opt, rep);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return m;
}

// The QDQ model of `b` with every activation int16 (all_int16), ranges from x.
ir::Model all_int16_qdq(const Builder& b, const Tensor& x) {
  quant::QuantOptions opt;
  opt.all_int16 = true;
  quant::QuantReport rep;
  return quantize(b, x, opt, &rep);
}

onnx::ModelProto serialize(const ir::Model& m) {
  std::string bytes;
  Status st = frontend::serialize_onnx(m, &bytes);
  EXPECT_TRUE(st.ok()) << st.to_string();
  onnx::ModelProto mp;
  EXPECT_TRUE(mp.ParseFromString(bytes));
  return mp;
}

// Q/DQ node counts of the written model by domain, and the com.microsoft opset import version (0: none).
struct Written {
  int std_q = 0, ms_q = 0, ms_axis = 0, ms_other_attrs = 0;
  int64_t ms_version = 0;
};
Written inspect(const onnx::ModelProto& mp) {
  Written w;
  for (const auto& os : mp.opset_import())
    if (os.domain() == "com.microsoft") w.ms_version = os.version();
  for (const auto& n : mp.graph().node()) {
    if (n.op_type() != "QuantizeLinear" && n.op_type() != "DequantizeLinear") continue;
    if (n.domain() == "com.microsoft") {
      ++w.ms_q;
      for (const auto& a : n.attribute()) (a.name() == "axis" ? w.ms_axis : w.ms_other_attrs) += 1;
    } else {
      ++w.std_q;
    }
  }
  return w;
}

void check_with_ort(const ir::Model& m, const Tensor& x, double atol) {
  test::check_model_with_ort(m, x, run(m, x, {m.graph.outputs[0].name}).at(0), atol);
}

TEST(QdqDomain, DomainRule) {
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI16, false, 13), "com.microsoft");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kU16, false, 20), "com.microsoft");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI16, false, 21), "");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI8, false, 10), "");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI8, true, 13), "");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI8, true, 11), "com.microsoft");
  EXPECT_EQ(ir::qdq_onnx_domain(DType::kI32, false, 13), "");
  ir::Node n;
  n.op_type = "QuantizeLinear";
  for (const char* d : {"", "ai.onnx", "com.microsoft"}) {
    n.domain = d;
    EXPECT_TRUE(ir::is_quantize_linear(n)) << d;
    EXPECT_FALSE(ir::is_dequantize_linear(n)) << d;
  }
  n.domain = "kaiwu";
  EXPECT_FALSE(ir::is_qdq_node(n));
}

TEST(QdqDomain, AllInt16BelowOpset21IsContribAndRunsInOrt) {
  Builder b = small_net(13);
  Tensor x = test::random_f32({1, 3, 6, 6}, 7);
  ir::Model q = all_int16_qdq(b, x);
  for (const auto& n : q.graph.nodes) EXPECT_TRUE(n.domain.empty()) << n.describe();  // the IR stays canonical
  Written w = inspect(serialize(q));
  EXPECT_GT(w.ms_q, 0);
  EXPECT_EQ(w.ms_version, 1);
  EXPECT_EQ(w.ms_other_attrs, 0);  // no saturate / block_size / output_dtype in the contrib ops
  // int8 per-channel weights and int32 biases stay standard; per-axis weight DQ keep their axis.
  EXPECT_GT(w.std_q, 0);
  check_with_ort(q, x, 1e-3);
}

TEST(QdqDomain, MixedInt8Int16) {
  Builder b = small_net(13);
  Tensor x = test::random_f32({1, 3, 6, 6}, 8);
  quant::QuantOptions opt;
  opt.int16_nodes = {"conv2"};
  quant::QuantReport rep;
  ir::Model q = quantize(b, x, opt, &rep);
  onnx::ModelProto mp = serialize(q);
  Written w = inspect(mp);
  EXPECT_GT(w.ms_q, 0);
  EXPECT_EQ(w.ms_version, 1);
  // Exactly the 16-bit ones are contrib ops.
  std::map<std::string, int> init_type;
  for (const auto& t : mp.graph().initializer()) init_type[t.name()] = t.data_type();
  for (const auto& n : mp.graph().node()) {
    if (n.op_type() != "QuantizeLinear" && n.op_type() != "DequantizeLinear") continue;
    const int zt = n.input_size() > 2 ? init_type[n.input(2)] : 0;
    const bool wide = zt == onnx::TensorProto::INT16 || zt == onnx::TensorProto::UINT16;
    EXPECT_EQ(n.domain() == "com.microsoft", wide) << n.name();
  }
  check_with_ort(q, x, 1e-2);

  // Plain int8: no contrib op, no com.microsoft import (also when the IR carried one).
  ir::Model q8 = quantize(b, x, {}, &rep);
  q8.opsets["com.microsoft"] = 1;
  Written w8 = inspect(serialize(q8));
  EXPECT_EQ(w8.ms_q, 0);
  EXPECT_EQ(w8.ms_version, 0);
}

TEST(QdqDomain, Opset21StaysStandard) {
  Builder b = small_net(21);
  Tensor x = test::random_f32({1, 3, 6, 6}, 9);
  Written w = inspect(serialize(all_int16_qdq(b, x)));
  EXPECT_EQ(w.ms_q, 0);
  EXPECT_EQ(w.ms_version, 0);
  EXPECT_GT(w.std_q, 0);
}

TEST(QdqDomain, ImportMapsContribToDefaultDomainAndBack) {
  Builder b = small_net(13);
  Tensor x = test::random_f32({1, 3, 6, 6}, 10);
  ir::Model q = all_int16_qdq(b, x);
  std::string bytes;
  ASSERT_TRUE(frontend::serialize_onnx(q, &bytes).ok());
  ir::Model back;
  Status st = frontend::parse_onnx(bytes, "mem.onnx", ".", &back);
  ASSERT_TRUE(st.ok()) << st.to_string();
  int qdq = 0;
  for (const auto& n : back.graph.nodes)
    if (ir::is_qdq_node(n)) {
      ++qdq;
      EXPECT_EQ(n.domain, "") << n.describe();
    }
  EXPECT_EQ(qdq, static_cast<int>(std::count_if(q.graph.nodes.begin(), q.graph.nodes.end(),
                                                [](const ir::Node& n) { return ir::is_qdq_node(n); })));
  // Same results after the round trip, and the same domains when written again.
  Tensor a = run(q, x, {"y"}).at(0), c = run(back, x, {"y"}).at(0);
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data<float>()[i], c.data<float>()[i]) << i;
  Written w1 = inspect(serialize(q)), w2 = inspect(serialize(back));
  EXPECT_EQ(w1.ms_q, w2.ms_q);
  EXPECT_EQ(w1.std_q, w2.std_q);
  EXPECT_EQ(w2.ms_version, 1);
}

// A com.microsoft QuantizeLinear / DequantizeLinear pair built in code runs like the standard one, also per axis
// and without a zero point; a QuantizeLinear with only output_dtype gets an explicit zero point when written.
TEST(QdqDomain, RuntimeRunsContribNodesBuiltInCode) {
  for (const char* dom : {"", "com.microsoft"}) {
    Builder b(13);
    b.input("x", {1, 3, 2, 2});
    b.constant("s", Tensor::from_vector<float>({0.01f}));
    b.constant("z", Tensor::from_vector<int16_t>({5}));
    b.constant("s3", Tensor::from_vector<float>({0.01f, 0.02f, 0.05f}));
    b.constant("z3", Tensor::from_vector<int16_t>({0, -3, 7}));
    b.node("q", "QuantizeLinear", {"x", "s", "z"}, {"xq"}).domain = dom;
    b.node("dq", "DequantizeLinear", {"xq", "s", "z"}, {"xd"}).domain = dom;
    b.node("q3", "QuantizeLinear", {"xd", "s3", "z3"}, {"xq3"}).domain = dom;
    b.node("dq3", "DequantizeLinear", {"xq3", "s3", "z3"}, {"y"}).domain = dom;
    b.output("y", {1, 3, 2, 2});
    Tensor x = test::random_f32({1, 3, 2, 2}, 11, -3.f, 3.f);
    Tensor y = run(b.m, x, {"y", "xq"}).at(0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float s = i < 4 ? 0.01f : i < 8 ? 0.02f : 0.05f;
      EXPECT_NEAR(y.data<float>()[i], x.data<float>()[i], s) << dom << " " << i;
    }
  }
  ir::Node q;
  q.name = "q";
  q.op_type = "QuantizeLinear";
  q.inputs = {"x", "s"};
  q.outputs = {"y"};
  q.attrs["output_dtype"] = ir::Attribute::make_int(5);  // int16
  q.attrs["saturate"] = ir::Attribute::make_int(1);
  Builder b(13);
  b.input("x", {2});
  b.constant("s", Tensor::from_vector<float>({0.5f}));
  b.m.graph.nodes.push_back(q);
  b.output("y");
  onnx::ModelProto mp = serialize(b.m);
  ASSERT_EQ(mp.graph().node_size(), 1);
  const onnx::NodeProto& n = mp.graph().node(0);
  EXPECT_EQ(n.domain(), "com.microsoft");
  EXPECT_EQ(n.attribute_size(), 0);
  ASSERT_EQ(n.input_size(), 3);
  bool found = false;
  for (const auto& t : mp.graph().initializer())
    if (t.name() == n.input(2)) found = t.data_type() == onnx::TensorProto::INT16;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace kaiwu
