// Test helpers for the quantized op family: build a one-node model (inputs fed, constant or omitted), run it through
// GraphExecutor with the reference or the optimized kernels, and compare implementations.
#pragma once
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "runtime/graph_executor.h"

namespace kaiwu::qtest {

struct In {
  Tensor t;
  bool constant = false;
  bool omitted = false;
};
inline In fed(Tensor t) { return {std::move(t), false, false}; }
inline In cst(Tensor t) { return {std::move(t), true, false}; }
inline In none() { return {Tensor(), false, true}; }

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
  ir::Model m;
  m.opsets[""] = c.opset;
  ir::Node n;
  n.name = "q";
  n.op_type = c.op;
  n.attrs = c.attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const In& in = c.inputs[i];
    if (in.omitted) {
      n.inputs.push_back("");
      continue;
    }
    std::string name = "in" + std::to_string(i);
    n.inputs.push_back(name);
    if (in.constant) {
      m.graph.initializers[name] = in.t;
    } else {
      ir::ValueInfo v;
      v.name = name;
      v.dtype = in.t.dtype();
      m.graph.inputs.push_back(v);
      feeds.emplace_back(name, in.t);
    }
  }
  n.outputs = {"y"};
  ir::ValueInfo yv;
  yv.name = "y";
  m.graph.outputs.push_back(yv);
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  SessionOptions opts;
  opts.num_threads = threads;
  opts.reference_only = reference_only;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), opts, &ex));
  std::vector<Tensor> outs;
  KW_RETURN_IF_ERROR(ex->run(feeds, {"y"}, &outs));
  *out = outs[0];
  return Status::Ok();
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

}  // namespace kaiwu::qtest
