// Test helper for shape/data-movement op tests: builds a one-node model and runs it through GraphExecutor.
#pragma once
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "runtime/graph_executor.h"

namespace kaiwu::test {

// One input of the node: fed at run time, a constant (initializer), or omitted.
struct NodeInput {
  Tensor t;
  bool constant = false;
  bool omitted = false;
};
inline NodeInput fed(Tensor t) { return {std::move(t), false, false}; }
inline NodeInput constant(Tensor t) { return {std::move(t), true, false}; }
inline NodeInput omitted() { return {Tensor(), false, true}; }

struct OneNode {
  OneNode(std::string op_type, int64_t op_set, std::vector<NodeInput> ins = {},
          std::map<std::string, ir::Attribute> attributes = {}, int outputs = 1)
      : op(std::move(op_type)), opset(op_set), inputs(std::move(ins)), attrs(std::move(attributes)), num_outputs(outputs) {}
  std::string op;
  int64_t opset = 13;
  std::vector<NodeInput> inputs;
  std::map<std::string, ir::Attribute> attrs;
  int num_outputs = 1;
  bool reference_only = false;
  int threads = 1;
};

// Builds the model of `c` and runs it once; fills `outs` with every node output.
inline Status run_one_node(const OneNode& c, std::vector<Tensor>* outs) {
  ir::Model m;
  m.opsets[""] = c.opset;
  ir::Node n;
  n.name = "n";
  n.op_type = c.op;
  n.attrs = c.attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const NodeInput& in = c.inputs[i];
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
  std::vector<std::string> out_names;
  for (int o = 0; o < c.num_outputs; ++o) {
    out_names.push_back("out" + std::to_string(o));
    n.outputs.push_back(out_names.back());
    ir::ValueInfo v;
    v.name = out_names.back();
    m.graph.outputs.push_back(v);
  }
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{c.threads, c.reference_only}, &ex));
  return ex->run(feeds, out_names, outs);
}

// Runs `c` with the reference kernels and with the optimized ones on 1 and 2 threads; expects identical bytes and
// returns the reference outputs.
inline Status run_all_impls(OneNode c, std::vector<Tensor>* outs, std::string* mismatch) {
  c.reference_only = true;
  KW_RETURN_IF_ERROR(run_one_node(c, outs));
  for (int threads : {1, 2}) {
    c.reference_only = false;
    c.threads = threads;
    std::vector<Tensor> o;
    KW_RETURN_IF_ERROR(run_one_node(c, &o));
    for (size_t i = 0; i < o.size(); ++i) {
      const Tensor& a = (*outs)[i];
      if (a.dtype() != o[i].dtype() || a.shape() != o[i].shape() || a.nbytes() != o[i].nbytes() ||
          (a.nbytes() && std::memcmp(a.raw(), o[i].raw(), a.nbytes()) != 0))
        *mismatch = "output " + std::to_string(i) + " differs between implementations (threads " + std::to_string(threads) + ")";
    }
  }
  return Status::Ok();
}

inline ir::Attribute ints(std::vector<int64_t> v) { return ir::Attribute::make_ints(std::move(v)); }
inline ir::Attribute i64(int64_t v) { return ir::Attribute::make_int(v); }

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// 0, 1, 2, ... as a tensor of dtype T.
template <typename T>
Tensor iota_tensor(const Shape& s) {
  std::vector<T> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i);
  return Tensor::from_vector<T>(v, s);
}

}  // namespace kaiwu::test
