// Automatic mixed precision: from the all-int8 model of a compile working_dir, raise the activation tensors whose
// int8 quantization costs most in context (all-but-one sensitivity) to int16, and if that is not enough the nodes
// ranked worst to float, the smallest top-k by bisection, until the target metric (output cosine, top-1 agreement or
// binarized-map IoU with the float model) reaches the target; then drop the
// raises that are not needed (in groups, least important first). Writes the node_info block, a complete yaml, the QDQ and fixed-point models,
// and the estimated latency cost of each raise.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kaiwu/status.h"

namespace kaiwu::debug {

struct AmpOptions {
  std::string config;        // the compile yaml (required)
  std::string working_dir;   // default: the yaml's working_dir
  std::string data_dir;      // default: the yaml's cal_data_dir (one subfolder per input, or the files directly)
  std::string out_dir;       // default: <working_dir>/amp
  std::string metric = "cosine";  // the target's metric vs float: cosine, top1 (argmax agreement) or iou (the maps
                                  // binarized at `binarize`); see debug::parse_metric
  double target = 0.999;
  float binarize = 0.5f;
  size_t data_num = 20;      // evaluation samples (the compile's held-out samples when there are >= 10)
  size_t rank_samples = 8;   // samples of the sensitivity ranking (the first of the evaluation samples)
  int max_raises = 0;        // candidates (the most sensitive items) at most; 0: every item with a loss
  bool allow_int16 = true, allow_float = true;
  bool prune = true;         // afterwards, return raised nodes to int8 when the target still holds
  bool validate = true;      // check the pruned set on as many other samples (when the data has them) and undo
                             // pruning steps until it holds there too
  int threads = 1;
};

struct AmpStep {
  // node: an activation tensor (op_type "activation", raised to int16) or a compute node (raised to float);
  // yaml_node: the node_info entry that carries the raise (a tensor's producer, OutputType int16, or its reader).
  std::string node, op_type, qtype, yaml_node;  // qtype: int16 / float
  double sensitivity = 0;            // ranking score: the output MSE with only this item left unquantized
                                     // (activations) or with only this node quantized (nodes)
  double value = 0;                  // the target metric after the raise
  double latency_ms = 0;             // steps: estimated latency after the step; final: this raise's cost
};

struct AmpResult {
  double before = 0, after = 0;  // the target metric of the all-int8 model and of the result
  double latency_before_ms = 0, latency_after_ms = 0;
  bool reached = false;
  size_t samples = 0;
  double validation = std::nan("");  // the target metric of the result on the validation samples (NaN: none)
  size_t validation_samples = 0;
  int evaluations = 0;
  std::vector<AmpStep> steps;    // search steps kept (node = "top k")
  std::vector<AmpStep> final;    // the raises kept
  std::string node_info_yaml;    // the model_parameters.node_info block
  std::string out_dir, yaml_path, qdq_path, fixed_path, kwm_path, report_path;
  std::string report;            // the text report (also in report_path)
};

Status auto_mixed_precision(const AmpOptions& opt, AmpResult* out,
                            const std::function<void(const std::string&)>& log = nullptr);

}  // namespace kaiwu::debug
