// Test helper for shape/data-movement op tests: builds a one-node model and runs it through GraphExecutor.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "op_test_util.h"

namespace kaiwu::test {

// One input of the node: fed at run time, a constant (initializer), or omitted.
using NodeInput = optest::In;
using optest::fed;
inline NodeInput constant(Tensor t) { return optest::konst(std::move(t)); }
inline NodeInput omitted() { return optest::none(); }

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
  std::vector<std::string> out_names;
  for (int o = 0; o < c.num_outputs; ++o) out_names.push_back("out" + std::to_string(o));
  return optest::run_one_node_model(c.op, c.opset, c.inputs, c.attrs, out_names, c.reference_only, c.threads, outs);
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
  return optest::values<T>(t);
}

// 0, 1, 2, ... as a tensor of dtype T.
template <typename T>
Tensor iota_tensor(const Shape& s) {
  std::vector<T> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i);
  return Tensor::from_vector<T>(v, s);
}

// Runs c on every implementation; expects success and identical outputs.
inline std::vector<Tensor> run_ok(const OneNode& c) {
  std::vector<Tensor> outs;
  std::string mismatch;
  Status st = run_all_impls(c, &outs, &mismatch);
  EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(mismatch, "");
  return outs;
}

// Runs c once and returns the failure message ("" on success).
inline std::string run_error(const OneNode& c) {
  std::vector<Tensor> outs;
  Status st = run_one_node(c, &outs);
  return st.ok() ? "" : st.message();
}

}  // namespace kaiwu::test
