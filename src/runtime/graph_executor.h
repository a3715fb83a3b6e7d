// GraphExecutor: prepares an IR graph for given input shapes (shape inference, constant folding, kernel
// selection, memory plan) and runs it. Plans are cached per input shapes and requested outputs.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/session.h"
#include "ops/op_def.h"

namespace kaiwu::runtime {

struct Plan;

class GraphExecutor {
 public:
  // Takes the model; checks that every op is supported (one message listing all that are not) and verifies it.
  static Status create(ir::Model model, const SessionOptions& options, std::unique_ptr<GraphExecutor>* out);
  ~GraphExecutor();

  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }
  const ir::Model& model() const { return model_; }
  Status run(const NamedTensors& feeds, const std::vector<std::string>& names, std::vector<Tensor>* results);
  void set_num_threads(int n) { num_threads_ = n; }
  void enable_profiling(bool on) { profiling_ = on; }
  // Profile of the most recently used plan, in execution order.
  std::vector<NodeProfile> profile() const;
  void reset_profile();
  int num_threads() const { return num_threads_; }

 private:
  GraphExecutor() = default;
  Status check_feeds(const NamedTensors& feeds, std::vector<const Tensor*>* ordered) const;
  Status build_plan(const std::vector<const Tensor*>& feeds, const std::vector<std::string>& names, bool values_known,
                    std::unique_ptr<Plan>* out) const;

  ir::Model model_;
  SessionOptions options_;
  int num_threads_ = 1;
  std::vector<IoInfo> inputs_, outputs_;
  std::vector<const ops::OpDef*> defs_;  // per node
  std::map<std::string, std::unique_ptr<Plan>> plans_;
  bool dynamic_ = false;  // some shape depends on input values: plan at every run
  bool profiling_ = false;
  Plan* last_plan_ = nullptr;
  std::mutex mu_;
};

}  // namespace kaiwu::runtime
