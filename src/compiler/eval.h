// Cosine similarity between a reference model (the optimized float model) and models under test (calibrated,
// quantized), per tensor, accumulated over several calibration samples.
//
// Aggregation: the cosine of the CONCATENATION of a tensor's values over all evaluation samples (sums of products
// accumulated in double, sample by sample), not the mean of per-sample cosines: a sample where the models
// disagree lowers the result in proportion to its energy, and memory stays bounded (one sample at a time).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "calib/dataset.h"
#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"
#include "runtime/graph_executor.h"

namespace kaiwu::compiler {

// Cosine of two float vectors accumulated over several samples.
struct Cosine {
  double dot = 0, na = 0, nb = 0;
  int64_t samples = 0;
  // Adds one sample (ignored when the element counts or dtypes differ, or either is not float32).
  void add(const Tensor& a, const Tensor& b);
  // 1 when both are all zeros, 0 when only one is, else dot / (|a| |b|).
  double value() const;
};

// One model compared against the reference: its executor and the tensors to compare (names it produces).
struct ModelUnderTest {
  runtime::GraphExecutor* exec = nullptr;
  std::vector<std::string> names;
  std::string label;  // for error messages ("calibrated model", ...)
};

// Per-tensor cosines of one model under test.
using Cosines = std::map<std::string, Cosine>;

// Runs the reference and every model under test on each of `samples` of `data` (one sample at a time) and
// accumulates, for each model, the cosine of each of its `names` against the reference's tensor of the same name.
// `progress` (may be null) is called after each sample with (done, total).
Status compare_models(runtime::GraphExecutor& ref, const std::vector<ModelUnderTest>& tests,
                      const calib::CalibrationDataset& data, const std::vector<size_t>& samples,
                      std::vector<Cosines>* out, const std::function<void(size_t, size_t)>& progress = nullptr);

// The names of `wanted` that model `m` computes (a node output or a graph input), in the order of `wanted`.
std::vector<std::string> tensors_in(const ir::Model& m, const std::vector<std::string>& wanted);

}  // namespace kaiwu::compiler
