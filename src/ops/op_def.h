// The op registry's entry type: shape/type inference and kernel creation for one op.
// Ops are listed once in ops.def; each op (or small family) defines its OpDef in its own file.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::ops {

struct TensorDesc {
  DType dtype = DType::kUndefined;
  Shape shape;
};

// What an inference function sees: the node, concrete input types/shapes, and the values of inputs known at
// prepare time (initializers and folded constants). It fills `outputs` (one per node output).
class InferContext {
 public:
  InferContext(const ir::Node& node, int64_t opset, std::vector<TensorDesc> inputs, std::vector<const Tensor*> values)
      : node_(node), opset_(opset), inputs_(std::move(inputs)), values_(std::move(values)) {
    outputs.resize(node.outputs.size());
  }
  const ir::Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].dtype != DType::kUndefined; }
  const TensorDesc& input(size_t i) const { return inputs_[i]; }
  // Every input's description, in order.
  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  // The input's value if known at prepare time, else null.
  const Tensor* value(size_t i) const { return i < values_.size() ? values_[i] : nullptr; }
  // For inputs that decide output shapes (Reshape's shape, Slice's starts, ...): the value, or null after
  // recording that it is needed; the inference function then returns value_needed().
  const Tensor* require_value(size_t i) {
    const Tensor* v = value(i);
    if (!v) needs_value_ = true;
    return v;
  }
  bool needs_value() const { return needs_value_; }
  Status value_needed() const {
    return failed_precondition(node_.describe() + ": output shape depends on a value known only at run time");
  }
  // An invalid_argument status naming the node.
  Status fail(const std::string& msg) const { return invalid_argument(node_.describe() + ": " + msg); }

  std::vector<TensorDesc> outputs;

 private:
  const ir::Node& node_;
  int64_t opset_;
  std::vector<TensorDesc> inputs_;
  std::vector<const Tensor*> values_;
  bool needs_value_ = false;
};

// Everything a kernel may look at when it is created (prepare time): the node's attributes, concrete shapes,
// constant inputs (weights), and the execution options.
struct KernelInit {
  const ir::Node& node;
  int64_t opset;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  std::vector<const Tensor*> values;  // constant inputs, null where not constant
  int num_threads = 1;
  bool reference_only = false;  // use the scalar reference kernels only

  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].dtype != DType::kUndefined; }
  Status fail(const std::string& msg) const { return invalid_argument(node.describe() + ": " + msg); }
};

// A prepared kernel: runs on inputs (null for omitted optional inputs) into outputs already allocated with the
// inferred shapes and dtypes.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status run(const std::vector<const Tensor*>& inputs, const std::vector<Tensor*>& outputs) = 0;
  // Which implementation was chosen ("ref", "onednn", "avx512", ...), for profiles and tests.
  virtual const char* impl_name() const { return "ref"; }
};

using InferFn = Status (*)(InferContext& ctx);
using CreateFn = Status (*)(const KernelInit& init, std::unique_ptr<Kernel>* out);

struct OpDef {
  const char* name;    // ONNX op_type
  const char* domain;  // "" for ai.onnx, "com.microsoft", "kaiwu", ...
  InferFn infer;
  CreateFn create;
  // The outputs depend only on the inputs' shapes (Shape): folded at prepare time once shapes are concrete. The
  // kernel then sees inputs with the right shape and dtype but no data.
  bool shape_only = false;
};

// For a shape_only op: data-less views with the inputs' dtypes and shapes stand in for the values not known yet
// (present inputs only). `stubs` owns the views and must outlive `values`.
inline void stand_in_shape_values(const std::vector<TensorDesc>& inputs, std::vector<Tensor>* stubs,
                                  std::vector<const Tensor*>* values) {
  stubs->clear();
  stubs->reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    stubs->push_back(Tensor::view(inputs[i].dtype, inputs[i].shape, nullptr));
    if (!(*values)[i] && inputs[i].dtype != DType::kUndefined) (*values)[i] = &stubs->back();
  }
}

// All registered ops, in ops.def order.
const std::vector<const OpDef*>& all_ops();
// The op for (domain, op_type), or null. "ai.onnx" is treated as "".
const OpDef* find_op(const std::string& domain, const std::string& op_type);
// One message listing every op of `g` with no OpDef, with the names of its nodes; Ok if all are known.
Status check_supported(const ir::Graph& g);

// Convenience: a kernel from a lambda-like callable, for simple ops.
template <typename F>
class FnKernel : public Kernel {
 public:
  explicit FnKernel(F f, const char* impl = "ref") : f_(std::move(f)), impl_(impl) {}
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override { return f_(in, out); }
  const char* impl_name() const override { return impl_; }

 private:
  F f_;
  const char* impl_;
};
template <typename F>
std::unique_ptr<Kernel> make_kernel(F f, const char* impl = "ref") {
  return std::make_unique<FnKernel<F>>(std::move(f), impl);
}

}  // namespace kaiwu::ops
