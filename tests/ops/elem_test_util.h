// Helpers of the elementwise / reduction / softmax / cast op tests: one-node models run through GraphExecutor
// with the reference kernels and with the optimized ones.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "op_test_util.h"
#include "test_util.h"

namespace kaiwu::elemtest {

using optest::ai;
using optest::af;
using optest::ais;
using optest::Attrs;
using optest::fed;
using optest::In;
using optest::konst;
using optest::none;
using optest::values;

// Runs one node of `op` at `opset`; returns its first output in *out.
inline Status run_node(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs,
                       bool reference_only, int threads, Tensor* out) {
  return optest::run_single_output(op, opset, ins, attrs, reference_only, threads, out);
}

// Runs the node with the reference kernels and the optimized ones (1 and 2 threads); checks that all agree within
// rtol (0: bit-identical) and that the optimized results do not depend on the thread count. Returns the reference.
inline Tensor run_both(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs = {},
                       double rtol = 1e-6) {
  Tensor ref, fast1, fast2;
  Status st = run_node(op, opset, ins, attrs, true, 1, &ref);
  EXPECT_TRUE(st.ok()) << st.to_string();
  st = run_node(op, opset, ins, attrs, false, 1, &fast1);
  EXPECT_TRUE(st.ok()) << st.to_string();
  st = run_node(op, opset, ins, attrs, false, 2, &fast2);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!ref.defined() || !fast1.defined() || !fast2.defined()) return ref;
  std::string why;
  EXPECT_TRUE(test::all_close(fast1, ref, rtol, rtol ? 1e-7 : 0, &why)) << op << ": " << why;
  EXPECT_TRUE(test::all_close(fast1, fast2, 0, 0, &why)) << op << " depends on the thread count: " << why;
  return ref;
}

// Expects run_node to fail (with the reference kernels) and returns the message.
inline std::string run_error(const std::string& op, int64_t opset, const std::vector<In>& ins,
                             const Attrs& attrs = {}) {
  Tensor out;
  Status st = run_node(op, opset, ins, attrs, true, 1, &out);
  EXPECT_FALSE(st.ok()) << op << " was expected to fail";
  return st.message();
}

template <typename T>
Tensor tensor(std::vector<T> v, Shape s) {
  return Tensor::from_vector<T>(v, s);
}
inline Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, s); }

// Element-wise float comparison with a message naming the first mismatch.
inline void expect_near(const Tensor& got, const std::vector<float>& want, const Shape& shape, double tol = 1e-5) {
  ASSERT_EQ(got.dtype(), DType::kF32);
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want[i], tol) << "element " << i;
}

}  // namespace kaiwu::elemtest
