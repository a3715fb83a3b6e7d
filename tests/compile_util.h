// Test helper shared by tests/compiler and tests/heavy: compile a yaml quietly and open the two artifacts most
// tests compare, the deployable and the QDQ stage model.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kaiwu/compile.h"
#include "kaiwu/session.h"

namespace kaiwu::test {

// Compiles `yaml` and opens `<out_dir>/<prefix>.kwm` into *dep and `<out_dir>/<prefix>_ptq_model.onnx` into *ptq.
inline ::testing::AssertionResult compile_and_open(const std::string& yaml, const std::string& out_dir,
                                                   const std::string& prefix, int threads,
                                                   std::unique_ptr<Session>* dep, std::unique_ptr<Session>* ptq) {
  CompileOptions co;
  co.echo = false;
  co.progress = false;
  CompileResult cr;
  Status s = compile_model(yaml, co, &cr);
  if (!s.ok()) return ::testing::AssertionFailure() << "compile " << yaml << ": " << s.message();
  const std::string kwm = out_dir + "/" + prefix + ".kwm", qdq = out_dir + "/" + prefix + "_ptq_model.onnx";
  s = Session::open(kwm, SessionOptions{threads}, dep);
  if (!s.ok()) return ::testing::AssertionFailure() << "open " << kwm << ": " << s.message();
  s = Session::open(qdq, SessionOptions{threads}, ptq);
  if (!s.ok()) return ::testing::AssertionFailure() << "open " << qdq << ": " << s.message();
  return ::testing::AssertionSuccess();
}

}  // namespace kaiwu::test
