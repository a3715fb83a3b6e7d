// Helpers for tests: paths from the environment, tensor comparison, random tensors.
#pragma once
#include <string>

#include "kaiwu/tensor.h"

namespace kaiwu::test {

// ../shared (KAIWU_SHARED), the source tree and the build tree.
std::string shared_dir();
std::string source_dir();
std::string build_dir();
// Python of the test venv (onnx, onnxruntime, numpy).
std::string python();
bool file_exists(const std::string& p);
// Runs a shell command; returns its exit code and fills `out` with stdout+stderr.
int run_command(const std::string& cmd, std::string* out);
// Max relative/absolute mismatch: |a-b| <= atol + rtol*|b| everywhere. Fills `why` on mismatch.
bool all_close(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why);
Tensor random_f32(const Shape& s, unsigned seed, float lo = -1.f, float hi = 1.f);

}  // namespace kaiwu::test
