// Bad inputs through the public API: each must give a non-ok Status whose message names the file and the node or
// value at fault, never a crash.
#include <gtest/gtest.h>

#include "e2e/bad_models.h"
#include "e2e/e2e_util.h"
#include "frontend/onnx/onnx_import.h"
#include "test_util.h"

namespace kaiwu {
namespace {

// Session::open(path) must fail with a message containing `path` and every string of `must_contain`.
void expect_open_fails(const std::string& path, const std::vector<std::string>& must_contain) {
  std::unique_ptr<Session> s;
  Status st = e2e::open_session(path, 1, &s);
  ASSERT_FALSE(st.ok()) << "opening " << path << " succeeded";
  const std::string& m = st.message();
  EXPECT_NE(m.find(path), std::string::npos) << "message does not name the file: " << m;
  for (const auto& w : must_contain) EXPECT_NE(m.find(w), std::string::npos) << "no '" << w << "' in: " << m;
  std::printf("[ error ] %s\n", st.to_string().c_str());
}

TEST(BadInput, TruncatedModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_truncated_model(tmp.path());
  ir::Model m;
  Status st = frontend::load_onnx(p, &m);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p), std::string::npos) << st.message();
  expect_open_fails(p, {"not a valid ONNX model"});
}

TEST(BadInput, GarbageModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_garbage_model(tmp.path());
  ir::Model m;
  EXPECT_FALSE(frontend::load_onnx(p, &m).ok());
  expect_open_fails(p, {"not a valid ONNX model"});
}

TEST(BadInput, EmptyModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_empty_model(tmp.path());
  expect_open_fails(p, {"empty"});
}

TEST(BadInput, MissingFile) {
  e2e::TempDir tmp;
  expect_open_fails(tmp.file("no_such_model.onnx"), {});
}

TEST(BadInput, MissingInitializer) {
  e2e::TempDir tmp;
  std::string node, init;
  std::string p = e2e::write_missing_initializer_model(tmp.path(), &node, &init);
  ASSERT_FALSE(node.empty());
  ASSERT_FALSE(init.empty());
  expect_open_fails(p, {node, init});
}

TEST(BadInput, GraphWithCycle) {
  e2e::TempDir tmp;
  std::string p = e2e::write_cycle_model(tmp.path());
  std::vector<std::string> want = e2e::cycle_node_names();
  want.push_back("cycle");
  expect_open_fails(p, want);
}

// Two unknown op types in three nodes: one error listing both types and all three nodes.
TEST(BadInput, UnsupportedOpsAllListed) {
  e2e::TempDir tmp;
  std::string p = e2e::write_unsupported_model(tmp.path());
  std::vector<std::string> want = e2e::unsupported_node_names();
  want.push_back("FooOp");
  want.push_back("BarOp");
  expect_open_fails(p, want);
  std::unique_ptr<Session> s;
  Status st = e2e::open_session(p, 1, &s);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.to_string();
}

class BadFeeds : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string model;
    ASSERT_TRUE(e2e::model_path("fmnist", &model).ok());
    Status st = e2e::open_session(model, 1, &s_);
    ASSERT_TRUE(st.ok()) << st.to_string();
    name_ = s_->inputs()[0].name;
  }
  // Running on `x` must fail naming the input and containing every string of `must_contain`.
  void expect_run_fails(const Tensor& x, const std::vector<std::string>& must_contain) {
    std::vector<Tensor> outs;
    Status st = e2e::run_session(*s_, name_, x, &outs);
    ASSERT_FALSE(st.ok()) << "run on " << dtype_name(x.dtype()) << shape_to_string(x.shape()) << " succeeded";
    EXPECT_NE(st.message().find("'" + name_ + "'"), std::string::npos) << st.message();
    for (const auto& w : must_contain)
      EXPECT_NE(st.message().find(w), std::string::npos) << "no '" << w << "' in: " << st.message();
    std::printf("[ error ] %s\n", st.to_string().c_str());
  }
  std::unique_ptr<Session> s_;
  std::string name_;
};

TEST_F(BadFeeds, WrongSpatialShape) {
  expect_run_fails(Tensor::zeros(DType::kF32, {2, 1, 32, 32}), {"[2, 1, 32, 32]"});
}

TEST_F(BadFeeds, WrongRank) { expect_run_fails(Tensor::zeros(DType::kF32, {1, 28, 28}), {"[1, 28, 28]"}); }

TEST_F(BadFeeds, WrongDtype) {
  expect_run_fails(Tensor::zeros(DType::kI64, {1, 1, 28, 28}), {dtype_name(DType::kI64)});
  expect_run_fails(Tensor::zeros(DType::kF64, {1, 1, 28, 28}), {dtype_name(DType::kF64)});
}

TEST_F(BadFeeds, UnknownInputName) {
  std::vector<Tensor> outs;
  Status st = s_->run({{"not_an_input", Tensor::zeros(DType::kF32, {1, 1, 28, 28})}}, {}, &outs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not_an_input"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kaiwu
