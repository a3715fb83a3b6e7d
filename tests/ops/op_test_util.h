// Shared helpers of the op tests: build a one-node model (inputs fed, constant or omitted) and run it through
// GraphExecutor with the reference or the optimized kernels. The family headers (elem_, nn_, movement_,
// quant_test_util.h) add their comparison helpers on top.
#pragma once
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "runtime/graph_executor.h"

namespace kaiwu::optest {

// One input of the node: fed at run time, a constant (initializer), or omitted.
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
inline ir::Attribute as(std::string v) { return ir::Attribute::make_string(std::move(v)); }
inline ir::Attribute ais(std::vector<int64_t> v) { return ir::Attribute::make_ints(std::move(v)); }
inline ir::Attribute afs(std::vector<float> v) { return ir::Attribute::make_floats(std::move(v)); }

// Builds a model of one node `node_name` of `op` at `opset` with inputs in0, in1, ... and the given outputs
// (an empty name leaves that output slot unused); runs it once and fills *outs with the named outputs.
inline Status run_one_node_model(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs,
                                 const std::vector<std::string>& outputs, bool reference_only, int threads,
                                 std::vector<Tensor>* outs, const std::string& node_name = "n") {
  ir::Model m;
  m.opsets[""] = opset;
  ir::Node n;
  n.name = node_name;
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
  std::vector<std::string> names;
  for (const std::string& name : outputs) {
    n.outputs.push_back(name);
    if (name.empty()) continue;
    ir::ValueInfo vo;
    vo.name = name;
    m.graph.outputs.push_back(vo);
    names.push_back(name);
  }
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{threads, reference_only}, &ex));
  return ex->run(feeds, names, outs);
}

// Same with a single output "y", returned in *out.
inline Status run_single_output(const std::string& op, int64_t opset, const std::vector<In>& ins, const Attrs& attrs,
                                bool reference_only, int threads, Tensor* out, const std::string& node_name = "n") {
  std::vector<Tensor> outs;
  KW_RETURN_IF_ERROR(run_one_node_model(op, opset, ins, attrs, {"y"}, reference_only, threads, &outs, node_name));
  *out = outs[0];
  return Status::Ok();
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

}  // namespace kaiwu::optest
