// Broken model files for the error-path tests (library and CLI). Each writer puts one file in `dir` and returns
// its path; the names it should be reported with are returned through the out-parameters.
#pragma once
#include <string>
#include <vector>

namespace kaiwu::e2e {

// The first half of the bytes of the real fmnist_cnn.onnx.
std::string write_truncated_model(const std::string& dir);
// 4096 bytes from a fixed-seed PRNG.
std::string write_garbage_model(const std::string& dir);
// A zero-byte .onnx file.
std::string write_empty_model(const std::string& dir);
// fmnist_cnn.onnx with the weight initializer of its first Conv removed: the Conv reads an undefined name.
std::string write_missing_initializer_model(const std::string& dir, std::string* node_name, std::string* init_name);
// x -> Add 'cyc_add'(x, t2) -> t1 -> Relu 'cyc_relu' -> t2 (a cycle), t1 -> Relu 'out_relu' -> y.
std::string write_cycle_model(const std::string& dir);
// x -> FooOp 'foo_a' -> BarOp 'bar_b' -> FooOp 'foo_c' -> y: two unknown op types in three nodes.
std::string write_unsupported_model(const std::string& dir);
// Node names / op types of the models above, for the assertions.
inline const std::vector<std::string>& cycle_node_names() {
  static const std::vector<std::string> k = {"cyc_add", "cyc_relu"};
  return k;
}
inline const std::vector<std::string>& unsupported_node_names() {
  static const std::vector<std::string> k = {"foo_a", "bar_b", "foo_c"};
  return k;
}

}  // namespace kaiwu::e2e
