// Unit tests of the deploy-side graph edits: boundary node removal (compiler/remove_nodes.h) and batch splitting
// (compiler/batch_split.h) on small hand-built models run by the GraphExecutor.
#include <gtest/gtest.h>

#include <memory>

#include "compiler/batch_split.h"
#include "compiler/remove_nodes.h"
#include "model_builder.h"
#include "runtime/graph_executor.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::vector<Tensor> run(const ir::Model& m, const NamedTensors& feeds) {
  std::unique_ptr<runtime::GraphExecutor> ex;
  SessionOptions so;
  so.optimize = false;
  Status st = runtime::GraphExecutor::create(m, so, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  std::vector<std::string> names;
  for (const auto& o : m.graph.outputs) names.push_back(o.name);
  std::vector<Tensor> outs;
  st = ex->run(feeds, names, &outs);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return outs;
}

// x -> Q -> DQ -> Relu -> Q -> DQ -> Reshape -> y: a QDQ chain with a Reshape at the output.
test::ModelBuilder chain() {
  test::ModelBuilder b;
  b.input("x", {1, 2, 2, 2});
  b.output("y", {1, 8});
  b.constant("s", Tensor::from_vector<float>({0.05f}));
  b.constant("z", Tensor::from_vector<int8_t>({0}));
  b.constant("shape", Tensor::from_vector<int64_t>({1, 8}));
  b.node("q_in", "QuantizeLinear", {"x", "s", "z"}, {"xq"});
  b.node("dq_in", "DequantizeLinear", {"xq", "s", "z"}, {"xf"});
  b.node("relu", "Relu", {"xf"}, {"r"});
  b.node("q_out", "QuantizeLinear", {"r", "s", "z"}, {"rq"});
  b.node("dq_out", "DequantizeLinear", {"rq", "s", "z"}, {"rf"});
  b.node("reshape", "Reshape", {"rf", "shape"}, {"y"});
  return b;
}

TEST(RemoveNodes, RemovableDefinition) {
  auto b = chain();
  auto nodes = compiler::removable_boundary_nodes(b.m.graph);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].name, "q_in");
  EXPECT_TRUE(nodes[0].at_input);
  EXPECT_EQ(nodes[0].type, "Quantize");
  EXPECT_EQ(nodes[1].name, "reshape");
  EXPECT_FALSE(nodes[1].at_input);
  EXPECT_EQ(nodes[1].io, "y");
  // An input read by two nodes is not removable (the other reader would lose it).
  b.node("extra", "Relu", {"x"}, {"x2"});
  b.output("x2", {1, 2, 2, 2});
  nodes = compiler::removable_boundary_nodes(b.m.graph);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].name, "reshape");
}

// Order matters: Reshape then Dequantize removes both (the DQ reaches the output after the Reshape goes);
// Dequantize first finds none at the boundary (warning) and then removes the Reshape only.
TEST(RemoveNodes, RepeatedInGivenOrder) {
  auto b = chain();
  ir::Model m = b.m;
  std::vector<compiler::RemovedNode> removed;
  std::vector<std::string> log, warnings;
  ASSERT_TRUE(compiler::remove_boundary_nodes({"Quantize", "Reshape", "Dequantize"}, {}, &m, &removed, &log, &warnings).ok());
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed[0].name, "q_in");
  EXPECT_EQ(removed[1].name, "reshape");
  EXPECT_EQ(removed[2].name, "dq_out");
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[0].find("Remove node q_in (QuantizeLinear) at input x: it now takes int8"), std::string::npos) << log[0];
  EXPECT_EQ(m.graph.inputs[0].name, "x");
  EXPECT_EQ(m.graph.inputs[0].dtype, DType::kI8);
  EXPECT_EQ(m.graph.outputs[0].name, "y");
  EXPECT_EQ(m.graph.outputs[0].dtype, DType::kI8);
  EXPECT_EQ(removed[0].scale, std::vector<float>{0.05f});
  EXPECT_EQ(removed[0].zero_point, std::vector<int64_t>{0});
  EXPECT_NE(m.metadata.at(compiler::kDeletedNodesKey).find("\"name\": \"dq_out\""), std::string::npos);
  // The removed model on int8 data: relu of the input, shape [1, 2, 2, 2] (the Reshape went).
  Tensor q = Tensor::from_vector<int8_t>({-3, 4, 0, 127, -128, 1, 2, -1}, {1, 2, 2, 2});
  auto out = run(m, {{"x", q}});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype(), DType::kI8);
  ASSERT_EQ(out[0].shape(), (Shape{1, 2, 2, 2}));
  const int8_t want[] = {0, 4, 0, 127, 0, 1, 2, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[0].data<int8_t>()[i], want[i]) << i;

  ir::Model m2 = b.m;
  removed.clear(), log.clear(), warnings.clear();
  ASSERT_TRUE(compiler::remove_boundary_nodes({"Dequantize", "Reshape"}, {}, &m2, &removed, &log, &warnings).ok());
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].name, "reshape");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("remove_node_type Dequantize: no Dequantize node"), std::string::npos) << warnings[0];
}

TEST(RemoveNodes, ByNameAndErrors) {
  auto b = chain();
  ir::Model m = b.m;
  std::vector<compiler::RemovedNode> removed;
  std::vector<std::string> log, warnings;
  Status st = compiler::remove_boundary_nodes({}, {"nope"}, &m, &removed, &log, &warnings);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'nope'"), std::string::npos) << st.to_string();
  m = b.m;
  st = compiler::remove_boundary_nodes({}, {"relu"}, &m, &removed, &log, &warnings);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'relu' cannot be removed"), std::string::npos) << st.to_string();
  EXPECT_NE(st.message().find("q_in (Quantize)"), std::string::npos) << st.to_string();
  m = b.m;
  removed.clear();
  ASSERT_TRUE(compiler::remove_boundary_nodes({}, {"reshape", "dq_out"}, &m, &removed, &log, &warnings).ok());
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(m.graph.outputs[0].dtype, DType::kI8);
}

// A batch-3 input split into three batch-1 inputs, joined by a Concat; with a per-tensor QuantizeLinear after
// the input, each part is quantized before the Concat. The results equal the batched model's.
TEST(BatchSplit, SplitAndQuantizeBeforeConcat) {
  test::ModelBuilder b;
  b.input("x", {3, 2});
  b.output("y", {3, 2});
  b.constant("s", Tensor::from_vector<float>({0.1f}));
  b.constant("z", Tensor::from_vector<int8_t>({3}));
  b.node("q", "QuantizeLinear", {"x", "s", "z"}, {"xq"});
  b.node("dq", "DequantizeLinear", {"xq", "s", "z"}, {"y"});
  Tensor x = test::random_f32({3, 2}, 1);
  auto ref = run(b.m, {{"x", x}});
  ir::Model m = b.m;
  std::vector<std::string> log;
  ASSERT_TRUE(compiler::split_input_batch(&m, "x", {}, &log).ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "Split input x with input_batch 3 on dim 0");
  ASSERT_EQ(m.graph.inputs.size(), 3u);
  EXPECT_EQ(m.graph.inputs[2].name, "x_2");
  EXPECT_EQ(m.graph.inputs[2].dims[0].value, 1);
  EXPECT_EQ(compiler::quantize_before_split_concat(&m), 1);
  int quantizers = 0;
  for (const auto& n : m.graph.nodes) quantizers += n.op_type == "QuantizeLinear";
  EXPECT_EQ(quantizers, 3);
  NamedTensors feeds;
  for (int i = 0; i < 3; ++i) {
    Tensor p = Tensor::empty(DType::kF32, {1, 2});
    p.data<float>()[0] = x.data<float>()[2 * i];
    p.data<float>()[1] = x.data<float>()[2 * i + 1];
    feeds.emplace_back("x_" + std::to_string(i), p);
  }
  auto got = run(m, feeds);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].shape(), ref[0].shape());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(got[0].data<float>()[i], ref[0].data<float>()[i]) << i;
  // Errors name the input: unknown, batch 1, wrong name count, name clash.
  ir::Model bad = b.m;
  EXPECT_NE(compiler::split_input_batch(&bad, "nope", {}, nullptr).message().find("'nope'"), std::string::npos);
  EXPECT_NE(compiler::split_input_batch(&bad, "x", {"a", "b"}, nullptr).message().find("2 names"), std::string::npos);
  EXPECT_NE(compiler::split_input_batch(&bad, "x", {"a", "xq", "c"}, nullptr).message().find("'xq'"), std::string::npos);
  ASSERT_TRUE(compiler::set_input_batch(&bad, "x", 1).ok());
  EXPECT_NE(compiler::split_input_batch(&bad, "x", {}, nullptr).message().find("batch 1"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
