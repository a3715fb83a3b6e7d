// The CLI on bad inputs: `kaiwu run -m <bad file>` exits non-zero and prints a message naming the file (and the
// nodes at fault); a wrong input .npy makes `kaiwu run` exit non-zero naming the input.
#include <gtest/gtest.h>

#include "core/npy.h"
#include "e2e/bad_models.h"
#include "e2e/e2e_util.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string kaiwu_bin() { return e2e::build_dir() + "/bin/kaiwu"; }

// Runs `kaiwu run -m model [extra]`; expects a non-zero exit and output containing each string of `must_contain`.
void expect_cli_fails(const std::string& model, const std::vector<std::string>& must_contain,
                      const std::string& extra = "") {
  ASSERT_TRUE(test::file_exists(kaiwu_bin())) << kaiwu_bin() << " is not built";
  std::string out;
  std::string cmd = e2e::sh_quote(kaiwu_bin()) + " run -m " + e2e::sh_quote(model) + extra;
  int rc = test::run_command(cmd, &out);
  EXPECT_NE(rc, 0) << cmd << " exited 0:\n" << out;
  for (const auto& w : must_contain) EXPECT_NE(out.find(w), std::string::npos) << "no '" << w << "' in:\n" << out;
  std::printf("[ cli ] exit %d: %s", rc, out.c_str());
}

TEST(CliErrors, TruncatedModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_truncated_model(tmp.path());
  expect_cli_fails(p, {p, "not a valid ONNX model"});
}

TEST(CliErrors, GarbageModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_garbage_model(tmp.path());
  expect_cli_fails(p, {p, "not a valid ONNX model"});
}

TEST(CliErrors, EmptyModel) {
  e2e::TempDir tmp;
  std::string p = e2e::write_empty_model(tmp.path());
  expect_cli_fails(p, {p, "empty"});
}

TEST(CliErrors, MissingFile) {
  e2e::TempDir tmp;
  std::string p = tmp.file("no_such_model.onnx");
  expect_cli_fails(p, {p});
}

TEST(CliErrors, MissingInitializer) {
  e2e::TempDir tmp;
  std::string node, init;
  std::string p = e2e::write_missing_initializer_model(tmp.path(), &node, &init);
  expect_cli_fails(p, {p, node, init});
}

TEST(CliErrors, GraphWithCycle) {
  e2e::TempDir tmp;
  std::string p = e2e::write_cycle_model(tmp.path());
  std::vector<std::string> want = e2e::cycle_node_names();
  want.push_back(p);
  expect_cli_fails(p, want);
}

TEST(CliErrors, UnsupportedOps) {
  e2e::TempDir tmp;
  std::string p = e2e::write_unsupported_model(tmp.path());
  std::vector<std::string> want = e2e::unsupported_node_names();
  want.insert(want.end(), {p, "FooOp", "BarOp"});
  expect_cli_fails(p, want);
}

TEST(CliErrors, WrongInputShape) {
  e2e::TempDir tmp;
  std::string model;
  ASSERT_TRUE(e2e::model_path("fmnist", &model).ok());
  std::string npy = tmp.file("x.npy");
  ASSERT_TRUE(write_npy(npy, Tensor::zeros(DType::kF32, {1, 1, 32, 32})).ok());
  expect_cli_fails(model, {"'input'", "[1, 1, 32, 32]"}, " -i " + e2e::sh_quote(npy));
}

TEST(CliErrors, WrongInputDtype) {
  e2e::TempDir tmp;
  std::string model;
  ASSERT_TRUE(e2e::model_path("fmnist", &model).ok());
  std::string npy = tmp.file("x.npy");
  ASSERT_TRUE(write_npy(npy, Tensor::zeros(DType::kF64, {1, 1, 28, 28})).ok());
  expect_cli_fails(model, {"'input'", dtype_name(DType::kF64)}, " -i " + e2e::sh_quote(npy));
}

}  // namespace
}  // namespace kaiwu
