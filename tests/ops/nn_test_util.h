// Helpers of the NN op tests (conv, gemm/matmul, normalization, pooling, resize): one-node models with any number
// of outputs, run through GraphExecutor with the reference kernels and with the optimized ones.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "op_test_util.h"
#include "ops/op_def.h"
#include "test_util.h"

namespace kaiwu::nntest {

using optest::af;
using optest::afs;
using optest::ai;
using optest::ais;
using optest::as;
using optest::Attrs;
using optest::fed;
using optest::In;
using optest::konst;
using optest::none;

struct RunOpts {
  bool reference_only = true;
  int threads = 1;
  int outputs = 1;                  // node outputs y0, y1, ...
  std::vector<int> omitted_outputs;  // output slots given an empty name
};

// Runs one node; fills *outs with its (non-omitted) outputs in order.
inline Status run_node(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs,
                       const RunOpts& o, std::vector<Tensor>* outs) {
  std::vector<std::string> names;
  for (int k = 0; k < o.outputs; ++k) {
    bool omit = false;
    for (int x : o.omitted_outputs) omit = omit || x == k;
    names.push_back(omit ? "" : "y" + std::to_string(k));
  }
  return optest::run_one_node_model(op, opset, ins, attrs, names, o.reference_only, o.threads, outs);
}

// Runs with the reference (1 thread) and the optimized kernels (1 and 2 threads); expects them within
// rtol (+ atol) and the optimized results independent of the thread count. Returns the reference outputs.
inline std::vector<Tensor> run_both(const std::string& op, int64_t opset, const std::vector<In>& ins,
                                    const Attrs& attrs = {}, double rtol = 1e-5, double atol = 1e-5,
                                    RunOpts o = {}) {
  std::vector<Tensor> ref, f1, f2;
  o.reference_only = true;
  o.threads = 1;
  Status st = run_node(op, opset, ins, attrs, o, &ref);
  EXPECT_TRUE(st.ok()) << st.to_string();
  o.reference_only = false;
  st = run_node(op, opset, ins, attrs, o, &f1);
  EXPECT_TRUE(st.ok()) << st.to_string();
  o.threads = 2;
  st = run_node(op, opset, ins, attrs, o, &f2);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (ref.size() != f1.size() || ref.size() != f2.size()) return ref;
  for (size_t i = 0; i < ref.size(); ++i) {
    std::string why;
    EXPECT_TRUE(test::all_close(f1[i], ref[i], rtol, atol, &why)) << op << " output " << i << ": " << why;
    EXPECT_TRUE(test::all_close(f1[i], f2[i], 0, 0, &why)) << op << " depends on the thread count: " << why;
  }
  return ref;
}

// Expects the node to fail (reference kernels) and returns the message.
inline std::string run_error(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs = {},
                             RunOpts o = {}) {
  std::vector<Tensor> outs;
  Status st = run_node(op, opset, ins, attrs, o, &outs);
  EXPECT_FALSE(st.ok()) << op << " was expected to fail";
  return st.message();
}

inline Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, s); }
inline Tensor i64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector<int64_t>(v, s); }
// 0, 1, 2, ... as f32 of the given shape.
inline Tensor iota(Shape s, float start = 0.f) {
  Tensor t = Tensor::empty(DType::kF32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}

inline void expect_values(const Tensor& got, const std::vector<float>& want, const Shape& shape, double tol = 1e-5) {
  ASSERT_EQ(got.dtype(), DType::kF32);
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data<float>()[i], want[i], tol * (1 + std::fabs(want[i]))) << "element " << i;
}

// The implementation name the registry's kernel picks for one node (optimized kernels allowed), or the error.
inline std::string impl_of(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs = {},
                           int outputs = 1) {
  ir::Node n;
  n.name = "n";
  n.op_type = op;
  n.attrs = attrs;
  std::vector<ops::TensorDesc> descs;
  std::vector<const Tensor*> values;
  for (size_t i = 0; i < ins.size(); ++i) {
    n.inputs.push_back(ins[i].omitted ? "" : "in" + std::to_string(i));
    descs.push_back(ins[i].omitted ? ops::TensorDesc{} : ops::TensorDesc{ins[i].t.dtype(), ins[i].t.shape()});
    values.push_back(ins[i].constant ? &ins[i].t : nullptr);
  }
  for (int k = 0; k < outputs; ++k) n.outputs.push_back("y" + std::to_string(k));
  const ops::OpDef* def = ops::find_op("", op);
  if (!def) return "no op";
  ops::InferContext ctx(n, opset, descs, values);
  Status st = def->infer(ctx);
  if (!st.ok()) return st.to_string();
  ops::KernelInit init{n, opset, descs, ctx.outputs, values, 2, false};
  std::unique_ptr<ops::Kernel> k;
  st = def->create(init, &k);
  return st.ok() ? k->impl_name() : st.to_string();
}

}  // namespace kaiwu::nntest
