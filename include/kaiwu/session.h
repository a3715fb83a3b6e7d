// kaiwu::Session: load any Kaiwu artifact (for now: float or QDQ ONNX) and run it.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu {

struct SessionOptions {
  int num_threads = 0;          // 0: all cores of the machine
  bool reference_only = false;  // run the scalar reference kernels only (slow; for differential testing)
  bool optimize = true;         // graph optimizations: BN folding, conv fusion, NHWC layout (same maths)
};

struct IoInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;                        // -1 for a dimension that is not fixed
  std::vector<std::string> dim_names; // symbolic names ("" for fixed or unnamed dims)
  std::string layout;                 // "NCHW", "NHWC" or "" when not an image tensor
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Per-node timing collected while profiling is on (Session::enable_profiling), in execution order.
struct NodeProfile {
  std::string node, op_type, impl;  // impl: the kernel chosen ("onednn", "x86", "ref", ...)
  Shape output_shape;
  int64_t calls = 0;
  double total_ms = 0;
};

namespace runtime { class GraphExecutor; }

class Session {
 public:
  // Opens a model file. Errors name the file and what is wrong with it.
  static Status open(const std::string& path, const SessionOptions& options, std::unique_ptr<Session>* out);
  ~Session();

  const std::vector<IoInfo>& inputs() const;
  const std::vector<IoInfo>& outputs() const;
  // Runs on named inputs and returns the requested outputs in order (all graph outputs when `names` is empty).
  // Any intermediate value of the graph may be requested by name.
  Status run(const NamedTensors& feeds, const std::vector<std::string>& names, std::vector<Tensor>* results);
  void set_num_threads(int n);
  int num_threads() const;
  // Per-node timing hooks: when on, every run adds each executed node's time to the profile.
  void enable_profiling(bool on);
  std::vector<NodeProfile> profile() const;
  void reset_profile();
  // Internal: wraps an executor built elsewhere (runtime module).
  explicit Session(std::unique_ptr<runtime::GraphExecutor> exec);

 private:
  std::unique_ptr<runtime::GraphExecutor> exec_;
};

}  // namespace kaiwu
