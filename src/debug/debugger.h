// Precision debugger (issue 6, spec §5): where a QDQ model loses accuracy against its float model.
//
// A QDQ model (P_calibrated_model.onnx / P_ptq_model.onnx) is analyzed into "edges": a compute node's input that
// reads a DequantizeLinear output, either an activation (a QuantizeLinear -> DequantizeLinear pair on a tensor) or
// a weight (an integer initializer -> DequantizeLinear). A quantization set says which edges stay quantized; the
// partially quantized model makes the inactive edges read the float value instead (the Q's input, or the original
// float weight from the optimized float model). Debug items group edges:
//   node       every quantized input of one compute node (activations and weights),
//   weight     one weight (all its readers),
//   activation one activation tensor (all its readers).
// Every evaluation streams over the data one sample at a time; the metrics keep running sums only.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "calib/dataset.h"
#include "ir/graph.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"
#include "runtime/graph_executor.h"

namespace kaiwu::debug {

// ---- metrics -----------------------------------------------------------------------------------------------------
enum class Metric { kCosine, kMse, kMre, kSqnr, kChebyshev, kMae, kTop1, kIou };
// "cosine-similarity" (or "cosine"), "mse", "mre", "sqnr", "chebyshev", "mae", and the task metrics "top1" (argmax
// agreement along the last axis: classes, or the per-step classes of a CTC sequence) and "iou" (of the maps
// binarized at ErrorStats::binarize: segmentation and text-detection probability maps); error names the accepted ones.
Status parse_metric(const std::string& name, Metric* out);
const char* metric_name(Metric m);
// True for cosine, sqnr, top1 and iou (a larger value is better); false for the error metrics.
bool higher_is_better(Metric m);

// Running sums of a float reference vs a test tensor, over any number of samples (concatenation semantics).
//  cosine = sum(a b) / sqrt(sum a^2 sum b^2); mse = mean (a-b)^2; mae = mean |a-b|; mre = sum |a-b| / sum |a|;
//  sqnr = 10 log10(sum a^2 / sum (a-b)^2) dB; chebyshev = max |a-b|;
//  top1 = rows (along the last axis) whose argmax agrees / rows; iou = |a > t and b > t| / |a > t or b > t| (1 when
//  both are empty), t = binarize.
struct ErrorStats {
  double dot = 0, na = 0, nb = 0, sq = 0, abs_diff = 0, abs_ref = 0, max_abs = 0;
  int64_t count = 0;
  int64_t rows = 0, agree = 0, inter = 0, uni = 0;
  float binarize = 0.5f;
  // Adds one sample; ignored (false) unless both are float32 with the same element count.
  bool add(const Tensor& ref, const Tensor& test);
  double value(Metric m) const;
};

// ---- the QDQ structure -------------------------------------------------------------------------------------------
struct QdqEdge {
  size_t node = 0;        // index of the reading compute node in the QDQ graph
  size_t input = 0;       // its input slot
  bool weight = false;
  std::string item;       // weight: the float weight's name; activation: the quantized tensor's name
  std::string float_source;  // what the input reads when the edge is inactive
};

struct QdqAnalysis {
  ir::Model qdq;
  std::vector<QdqEdge> edges;
  std::vector<std::string> nodes;        // compute nodes with at least one edge, graph order
  std::vector<std::string> weights;      // weight items, graph order
  std::vector<std::string> activations;  // activation items, graph order
  std::map<std::string, Tensor> float_weights;  // float_source name -> float value (added for inactive weights)
  std::map<std::string, std::string> op_type;   // compute node name -> op type
  std::vector<std::string> warnings;     // e.g. weights whose original float value was not found
  // Indices of the edges of an item; kind "node" / "weight" / "activation". Empty when unknown.
  std::vector<size_t> edges_of(const std::string& kind, const std::string& name) const;
  const std::vector<std::string>& items(const std::string& kind) const;
};

// Analyzes a QDQ model. `float_model` (the optimized float model, may be null) gives the original float weights
// (matched by name: "<w>_quantized" -> "<w>"); without it, or for weights it lacks, the dequantized value is used
// (with a warning: the weight's quantization error then cannot be removed).
Status analyze_qdq(const ir::Model& qdq, const ir::Model* float_model, QdqAnalysis* out);

// The partially quantized model: edges with active[i] false read their float source. active.size() == edges.size().
Status build_partial(const QdqAnalysis& a, const std::vector<bool>& active, ir::Model* out);
// The float value of a DequantizeLinear node whose operands are initializers (per tensor or per axis).
Status dequantize_constant(const ir::Graph& g, const ir::Node& dq, Tensor* out);
// Edge masks.
std::vector<bool> mask_none(const QdqAnalysis& a);
std::vector<bool> mask_all(const QdqAnalysis& a);
std::vector<bool> mask_kind(const QdqAnalysis& a, bool weights);  // only weight edges (true) or activation edges

// ---- data and evaluation -----------------------------------------------------------------------------------------
// Calibration data for the model's inputs: `dir` holds one subfolder per input name (calibration_data/<input>/), or
// for a one-input model the .npy/.bin files directly. data_num > 0 keeps the first data_num samples. Empty dir:
// `random_samples` samples of random data (a warning is added).
Status open_data(const ir::Model& m, const std::string& dir, const std::string& cal_data_type, size_t data_num,
                 calib::CalibrationDataset* out, std::vector<size_t>* samples);

// Compares models against the float model over the data, one sample at a time. The float outputs are cached
// when they take at most `cache_bytes` over all samples; otherwise the float model is run again for each
// evaluation.
class Evaluator {
 public:
  // `float_model`: the reference (e.g. build_partial(mask_none)); `outputs`: the compared tensors (empty: the
  // graph outputs).
  static Status create(const ir::Model& float_model, const calib::CalibrationDataset* data,
                       std::vector<size_t> samples, std::vector<std::string> outputs, int threads,
                       std::unique_ptr<Evaluator>* out, size_t cache_bytes = size_t(256) << 20);
  // Per compared output, the error stats of `m` vs float.
  Status evaluate(const ir::Model& m, std::vector<ErrorStats>* out);
  // Per tensor of `names` (computed by both models; non-float tensors are skipped), the stats of each model of
  // `models` vs float. out[i][name].
  Status evaluate_tensors(const std::vector<const ir::Model*>& models, const std::vector<std::string>& names,
                          std::vector<std::map<std::string, ErrorStats>>* out);
  // Calls f(sample index, float outputs of `names`, outputs of each model) for every sample.
  Status for_each_sample(const std::vector<const ir::Model*>& models, const std::vector<std::string>& names,
                         const std::function<Status(size_t, const std::vector<Tensor>&,
                                                    const std::vector<std::vector<Tensor>>&)>& f);
  const std::vector<std::string>& outputs() const { return outputs_; }
  size_t num_samples() const { return samples_.size(); }
  int threads() const { return threads_; }
  // The mean over the compared outputs of one metric.
  static double mean(const std::vector<ErrorStats>& s, Metric m);
  // The threshold of the iou metric in evaluate() and evaluate_tensors() (default 0.5).
  void set_binarize(float t) { binarize_ = t; }
  // The feeds of the k-th evaluated sample; the float model's executor.
  Status sample(size_t k, NamedTensors* feeds) const { return data_->sample(samples_[k], feeds); }
  runtime::GraphExecutor& float_exec() { return *float_exec_; }

 private:
  Status float_outputs(size_t k, std::vector<Tensor>* out);
  std::unique_ptr<runtime::GraphExecutor> float_exec_;
  const calib::CalibrationDataset* data_ = nullptr;
  std::vector<size_t> samples_;
  std::vector<std::string> outputs_;
  std::vector<std::vector<Tensor>> cache_;
  bool cached_ = false;
  int threads_ = 1;
  float binarize_ = 0.5f;
};

// Executor for a model as the debugger runs it (graph optimizations off, `threads` threads).
Status make_executor(const ir::Model& m, int threads, std::unique_ptr<runtime::GraphExecutor>* out);

using Progress = std::function<void(size_t done, size_t total)>;

// Everything a debug command needs: the analysis of the QDQ model, the data and the evaluator (float reference =
// the QDQ model with every edge inactive).
struct DebugSession {
  QdqAnalysis analysis;
  calib::CalibrationDataset data;
  std::unique_ptr<Evaluator> ev;
  std::string model_path, float_path;
};
struct SessionSpec {
  std::string model;        // QDQ model (P_ptq_model.onnx / P_calibrated_model.onnx)
  std::string float_model;  // optional: the optimized float model (original float weights)
  std::string working_dir;  // instead of model/float_model: <wd>/<P>_ptq_model.onnx (+ optimized float)
  bool calibrated = false;  // with working_dir: P_calibrated_model.onnx instead of P_ptq_model.onnx
  std::string data_dir, cal_data_type;
  size_t data_num = 0;      // 0: every sample
  std::vector<std::string> outputs;  // compared tensors (empty: graph outputs)
  int threads = 1;
};
Status open_debug_session(const SessionSpec& spec, std::unique_ptr<DebugSession>* out);

// ---- sensitivity of nodes ----------------------------------------------------------------------------------------
struct SensitivityOptions {
  std::vector<Metric> metrics = {Metric::kCosine};
  std::string node_type = "node";   // node | weight | activation
  bool all_but_one = false;         // false: quantize only the item; true: quantize everything but the item
  std::vector<std::string> interested;  // empty: every item of node_type
};
struct SensitivityRow {
  std::string name, op_type;  // op_type: the node's (node), "weight" or "activation"
  std::vector<double> values;  // per metric
};
// Rows ranked worst first by the first metric (single: the item alone hurts most; all_but_one: leaving the item in
// float helps most). Unknown interested names are an error naming them.
Status node_sensitivity(const QdqAnalysis& a, Evaluator& ev, const SensitivityOptions& opt,
                        std::vector<SensitivityRow>* rows, const Progress& progress = nullptr);
// The spec's verbose table: a "=====node=====" banner, a header "Node  cosine-similarity  mse", dashes, rows.
std::string sensitivity_table(const std::vector<SensitivityRow>& rows, const std::vector<Metric>& metrics,
                              const std::string& title);

// ---- accumulated error -------------------------------------------------------------------------------------------
struct QuantSetSpec {
  std::string label;
  std::vector<bool> active;
};
struct AccumulatedError {
  Metric metric = Metric::kCosine;
  std::vector<std::string> layers, tensors;  // compute nodes in topological order and the output compared
  std::vector<std::string> labels;           // one curve per quantization set
  std::vector<std::vector<double>> values;   // [curve][layer]
};
// Per layer, the metric of each partially quantized model vs float at that layer's first float output.
// average_mode: each point is the running mean up to that layer.
Status accumulate_error(const QdqAnalysis& a, Evaluator& ev, const std::vector<QuantSetSpec>& sets, Metric metric,
                        bool average_mode, AccumulatedError* out);
// The standard sets: "all" (fully quantized), "weight" (weights only), "activation" (activations only).
std::vector<QuantSetSpec> standard_sets(const QdqAnalysis& a);
std::string accumulated_table(const AccumulatedError& r);
std::string accumulated_svg(const AccumulatedError& r);

// ---- distributions -----------------------------------------------------------------------------------------------
struct Histogram {
  double lo = 0, hi = 0;
  std::vector<double> counts;
};
struct NodeDistribution {
  std::string node, op_type, tensor;  // tensor: the node's first output
  Histogram act_float, act_quant;     // over all samples; quant = the fully quantized model's dequantized value
  double act_min = 0, act_max = 0;
  bool act_quantized = false;
  double act_scale = 0, act_zero_point = 0, act_qmin = 0, act_qmax = 0;  // the output's qparams
  std::vector<float> act_cmin, act_cmax;  // per channel (axis 1) over all samples
  bool has_weight = false;
  std::string weight;
  Histogram w_float, w_quant;
  double w_absmax = 0;
  std::vector<float> w_cmin, w_cmax;      // per output channel (axis 0)
};
// Histograms (`bins` bins) and per-channel ranges of the nodes' outputs and weights, streaming over the data.
Status distributions(const QdqAnalysis& a, Evaluator& ev, const std::vector<std::string>& nodes, int bins,
                     std::vector<NodeDistribution>* out);
std::string distribution_svg(const NodeDistribution& d);   // activation and weight histograms
std::string channel_range_svg(const NodeDistribution& d);  // per-channel min/max bars
std::string distribution_text(const NodeDistribution& d);

// ---- runall ------------------------------------------------------------------------------------------------------
struct RunallOptions {
  std::vector<Metric> metrics = {Metric::kCosine, Metric::kMse, Metric::kSqnr};
  int top = 5;           // distributions of the top-N nodes
  bool all_but_one = false;
  int bins = 64;
};
// Writes save_dir/{node_sensitivity/*.log, accumulate_error/*, data_distribution/*.html,
// channelwise_distribution/*.html, report.html} and returns the report's path in `html_path`.
Status runall(const QdqAnalysis& a, Evaluator& ev, const std::string& save_dir, const RunallOptions& opt,
              std::string* html_path, const std::function<void(const std::string&)>& log = nullptr);

}  // namespace kaiwu::debug
