// Helpers of the elementwise / reduction / softmax / cast op tests: one-node models run through GraphExecutor
// with the reference kernels and with the optimized ones.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "runtime/graph_executor.h"
#include "test_util.h"

namespace kaiwu::elemtest {

struct In {
  Tensor t;
  bool constant = false;
  bool omitted = false;
};
inline In fed(Tensor t) { return {std::move(t), false, false}; }
inline In konst(Tensor t) { return {std::move(t), true, false}; }
inline In none() { return {Tensor(), false, true}; }

using Attrs = std::map<std::string, ir::Attribute>;
inline ir::Attribute ai(int64_t v) { return ir::Attribute::make_int(v); }
inline ir::Attribute af(float v) { return ir::Attribute::make_float(v); }
inline ir::Attribute ais(std::vector<int64_t> v) { return ir::Attribute::make_ints(std::move(v)); }

// Runs one node of `op` at `opset`; returns its first output in *out.
inline Status run_node(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs,
                       bool reference_only, int threads, Tensor* out) {
  ir::Model m;
  m.opsets[""] = opset;
  ir::Node n;
  n.name = "n";
  n.op_type = op;
  n.attrs = attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (ins[i].omitted) {
      n.inputs.push_back("");
      continue;
    }
    std::string name = "in" + std::to_string(i);
    n.inputs.push_back(name);
    if (ins[i].constant) {
      m.graph.initializers[name] = ins[i].t;
    } else {
      ir::ValueInfo v;
      v.name = name;
      v.dtype = ins[i].t.dtype();
      m.graph.inputs.push_back(v);
      feeds.emplace_back(name, ins[i].t);
    }
  }
  n.outputs.push_back("y");
  ir::ValueInfo vo;
  vo.name = "y";
  m.graph.outputs.push_back(vo);
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{threads, reference_only}, &ex));
  std::vector<Tensor> outs;
  KW_RETURN_IF_ERROR(ex->run(feeds, {"y"}, &outs));
  *out = outs[0];
  return Status::Ok();
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

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// Element-wise float comparison with a message naming the first mismatch.
inline void expect_near(const Tensor& got, const std::vector<float>& want, const Shape& shape, double tol = 1e-5) {
  ASSERT_EQ(got.dtype(), DType::kF32);
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want[i], tol) << "element " << i;
}

}  // namespace kaiwu::elemtest
