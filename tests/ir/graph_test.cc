#include "ir/graph.h"

#include <gtest/gtest.h>

namespace kaiwu::ir {
namespace {

Node make_node(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

Graph chain() {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.dtype = DType::kF32;
  x.has_shape = true;
  x.dims = {Dim::symbol("N"), Dim::fixed(3)};
  g.inputs.push_back(x);
  g.outputs.push_back(ValueInfo{"z"});
  g.nodes.push_back(make_node("b", "Relu", {"y"}, {"z"}));
  g.nodes.push_back(make_node("a", "Neg", {"x"}, {"y"}));
  return g;
}

TEST(Graph, TopoSortOrdersProducersFirst) {
  Graph g = chain();
  EXPECT_FALSE(g.verify().ok());  // y used before defined
  ASSERT_TRUE(g.topo_sort().ok());
  EXPECT_EQ(g.nodes[0].name, "a");
  EXPECT_EQ(g.nodes[1].name, "b");
  EXPECT_TRUE(g.verify().ok());
}

TEST(Graph, CycleIsReportedWithNodeNames) {
  Graph g = chain();
  g.nodes[1].inputs = {"z"};  // a reads z, b reads y: cycle a -> b -> a
  Status st = g.topo_sort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("a"), std::string::npos);
}

TEST(Graph, UndefinedInputIsReported) {
  Graph g = chain();
  g.nodes[1].inputs = {"missing_weight"};
  Status st = g.topo_sort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("missing_weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Neg node 'a'"), std::string::npos) << st.message();
}

TEST(Graph, DuplicateOutputIsReported) {
  Graph g = chain();
  ASSERT_TRUE(g.topo_sort().ok());
  g.nodes.push_back(make_node("c", "Relu", {"x"}, {"y"}));
  Status st = g.verify();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("more than once"), std::string::npos);
}

TEST(Graph, DumpIsReadable) {
  Graph g = chain();
  ASSERT_TRUE(g.topo_sort().ok());
  g.nodes[0].attrs["alpha"] = Attribute::make_float(0.5f);
  g.initializers["w"] = Tensor::zeros(DType::kF32, {4, 3});
  std::string d = dump(g);
  EXPECT_NE(d.find("input  x: f32[N, 3]"), std::string::npos) << d;
  EXPECT_NE(d.find("const  w: f32[4, 3]"), std::string::npos) << d;
  EXPECT_NE(d.find("y = Neg(x) {alpha=0.5}"), std::string::npos) << d;
  EXPECT_NE(d.find("z = Relu(y)"), std::string::npos) << d;
}

}  // namespace
}  // namespace kaiwu::ir
