// Shared by the tests of tests/quant: export a model, then onnx.checker (full check) and onnxruntime must accept it
// and agree with Kaiwu's output (tests/quant/check_qdq_ort.py).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "core/npy.h"
#include "frontend/onnx/onnx_export.h"
#include "ir/graph.h"
#include "test_util.h"

namespace kaiwu::test {

// Exports `m` into a fresh temp folder and runs the checker and onnxruntime on input `x`; onnxruntime's first output
// must equal `ours` (Kaiwu's) within `atol`.
inline void check_model_with_ort(const ir::Model& m, const Tensor& x, const Tensor& ours, double atol) {
  char tmpl[] = "/tmp/kaiwu_ortcheck_XXXXXX";
  const char* d = mkdtemp(tmpl);
  ASSERT_NE(d, nullptr) << "mkdtemp failed";
  const std::string dir = d;
  const std::string model = dir + "/qdq.onnx", xin = dir + "/x.npy", yout = dir + "/y.npy";
  Status st = frontend::save_onnx(m, model);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_TRUE(write_npy(xin, x).ok());
  ASSERT_TRUE(write_npy(yout, ours).ok());
  const std::string cmd = python() + " " + source_dir() + "/tests/quant/check_qdq_ort.py " + model + " " + xin + " " +
                          yout + " " + std::to_string(atol);
  std::string log;
  EXPECT_EQ(run_command(cmd, &log), 0) << cmd << "\n" << log;
  std::string out;
  run_command("rm -rf " + dir, &out);
}

}  // namespace kaiwu::test
