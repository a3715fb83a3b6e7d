// Test helpers for the quantized op family: build a one-node model (inputs fed, constant or omitted), run it through
// GraphExecutor with the reference or the optimized kernels, and compare implementations.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "op_test_util.h"

namespace kaiwu::qtest {

using optest::fed;
using optest::In;
using optest::none;
inline In cst(Tensor t) { return optest::konst(std::move(t)); }

struct Node {
  Node(std::string o, int64_t v, std::vector<In> in, std::map<std::string, ir::Attribute> a = {})
      : op(std::move(o)), opset(v), inputs(std::move(in)), attrs(std::move(a)) {}
  std::string op;
  int64_t opset = 13;
  std::vector<In> inputs;
  std::map<std::string, ir::Attribute> attrs;
};

// Runs the node once; fills *out with its output.
inline Status run(const Node& c, bool reference_only, int threads, Tensor* out) {
  return optest::run_single_output(c.op, c.opset, c.inputs, c.attrs, reference_only, threads, out, "q");
}

// Largest |a[i] - b[i]| over two tensors of the same dtype and shape (-1 if they differ in dtype or shape).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return -1;
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double d = std::abs(a.get_f64(i) - b.get_f64(i));
    if (d > worst) worst = d;
  }
  return worst;
}

template <typename T>
Tensor random_tensor(const Shape& s, unsigned seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  Tensor t = Tensor::empty(DTypeOf<T>::value, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(d(rng));
  return t;
}

template <typename T>
Tensor scalar(T v) {
  return Tensor::from_vector<T>({v}, {});
}

// Runs c with the reference kernels (1 thread) and the optimized ones (1 and 2 threads); calls
// check(fast, ref, threads) for every successful optimized run. Returns the reference output.
template <typename F>
Tensor run_all_impls(const Node& c, F&& check) {
  Tensor ref;
  Status st = run(c, true, 1, &ref);
  EXPECT_TRUE(st.ok()) << st.to_string();
  for (int threads : {1, 2}) {
    Tensor fast;
    st = run(c, false, threads, &fast);
    EXPECT_TRUE(st.ok()) << st.to_string();
    if (!st.ok() || !ref.defined()) continue;
    check(fast, ref, threads);
  }
  return ref;
}

// Expects the node to fail (optimized kernels allowed) and returns the message.
inline std::string run_error(const Node& c) {
  Tensor out;
  Status st = run(c, false, 1, &out);
  EXPECT_FALSE(st.ok());
  return st.message();
}

}  // namespace kaiwu::qtest
