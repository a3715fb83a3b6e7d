// Calibration refinements of `kaiwu compile` (issue 6, "better calibration"), selected in the yaml's
// calibration_parameters.quant_config:
//   {"model_config": {"weight": {"calibration_type": "max" | "mse" | "auto",
//                                "bias_correction": true | false | "auto",
//                                "adaround": true | false | "auto" | {"enable": B, "patches": N, "passes": N}},
//                     "cross_layer_equalization": true | false}}
//  - per-channel MSE weight ranges (quant::WeightRange::kMse);
//  - bias correction: each Conv / Gemm bias gets -E[(W_q - W) x] per output channel, with E[x] the mean float input
//    of the layer over the calibration samples (exact for convolutions, padding included);
//  - AdaRound-family rounding: per output channel, greedy up/down rounding minimising e^T H e, H the second moment
//    (covariance when bias correction is on) of the layer's float input patches sampled from the calibration data;
//  - cross-layer equalization of Conv -> Relu -> Conv pairs on the float model before calibration.
// "auto" keeps a refinement when it raises the output cosine of the fixed-point model on the evaluation samples
// (held out of the statistics with calibration_type default); every refinement logs its before -> after cosine.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "calib/calib_table.h"
#include "calib/dataset.h"
#include "compiler/report.h"
#include "config/compile_config.h"
#include "ir/graph.h"
#include "kaiwu/status.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"

namespace kaiwu::compiler {

enum class RefineMode { kOff, kOn, kAuto };

struct RefineOptions {
  RefineMode weight_mse = RefineMode::kOff;
  RefineMode bias_correction = RefineMode::kAuto;
  RefineMode adaround = RefineMode::kOff;
  bool cle = false;
  int adaround_patches = 1024;  // input patches sampled per layer (over all calibration samples)
  int adaround_passes = 4;      // coordinate-descent sweeps per output channel
};

// The refinement keys of calibration_parameters.quant_config (missing keys keep the defaults above). Errors name
// the key and the bad value.
Status refine_options(const config::CompileConfig& cfg, RefineOptions* out);

// Hook before calibration: cross-layer equalization when asked, and a zero bias for every Conv / Gemm without one
// when bias correction may run (the float function is unchanged in both cases).
Status prepare_float_model(const config::CompileConfig& cfg, ir::Model* optimized, Log* log);

// Per-layer statistics of the float inputs of one Conv (2-D) or Gemm with a constant weight.
struct LayerStats {
  size_t node = 0;
  std::string name;
  bool gemm = false;
  int64_t cin = 0, h = 0, w = 0, m = 0, kh = 1, kw = 1, group = 1;  // Gemm: cin = K, h = w = 1
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0, oh = 1, ow = 1;
  int64_t samples = 0;           // input maps (batch entries) accumulated
  std::vector<double> mean_sum;  // sum of the input maps [cin * h * w]
  int64_t kg = 0;                // patch length per group: cin / group * kh * kw
  int64_t patches = 0;           // patches accumulated per group
  std::vector<double> hsum;      // per group: sum of x x^T [group][kg][kg] (AdaRound only)
  std::vector<double> xsum;      // per group: sum of x [group][kg]
};

// Gathers LayerStats sample by sample (also inside the calibration pass, through CollectOptions::on_sample).
class LayerCollector {
 public:
  // Prepares the refinable layers of `m` for `samples` expected samples; `patches` > 0 also gathers that many
  // input patches per layer for AdaRound.
  void init(const ir::Model& m, size_t samples, int patches);
  // The compile hook: init when the refinements of `cfg` need layer statistics (else stays inactive).
  Status init_for(const config::CompileConfig& cfg, const ir::Model& m, size_t samples);
  bool active() const { return active_; }
  // The float input tensors the layers read.
  const std::vector<std::string>& tensor_names() const { return names_; }
  // Adds one sample: `values[i]` is tensor `names[i]` (other names are ignored; missing layer inputs are an error).
  Status add(size_t sample, const std::vector<std::string>& names, const std::vector<Tensor>& values);
  // The layers that got statistics (moved out).
  std::vector<LayerStats> take();
  size_t samples() const { return seen_; }

 private:
  const ir::Model* model_ = nullptr;
  bool active_ = false;
  int per_map_ = 0;
  size_t seen_ = 0;
  std::vector<LayerStats> layers_;
  std::vector<bool> ok_;
  std::vector<std::string> names_;
};

// The refinable layers of `m` (Conv with a rank-4 constant weight, Gemm with a 2-D constant weight and transA 0)
// and their input statistics over `samples` of `data` run by `float_exec` (made from `m`, optimize off). With
// `patches` > 0 also the second moments of `patches` input patches per layer (layers with kg > 2304 skipped).
Status collect_layer_stats(const ir::Model& m, runtime::GraphExecutor& float_exec,
                           const calib::CalibrationDataset& data, const std::vector<size_t>& samples, int patches,
                           std::vector<LayerStats>* out);

// Bias corrections -E[(W_q - W) x] per output channel for every layer of `stats`, W_q as quantized with `q`
// (weight range, given weights); keyed by node name.
Status bias_corrections(const ir::Model& m, const std::vector<LayerStats>& stats, const quant::QuantOptions& q,
                        std::map<std::string, std::vector<float>>* out);

// AdaRound-family weights for the layers of `stats` with patch statistics (scales from q.weight_range, per-channel
// axis of the quantization rule). `covariance`: minimise the error around the mean (bias correction follows).
// `mse_before` / `mse_after` (may be null) get the summed e^T H e of nearest and refined rounding.
Status adaround_weights(const ir::Model& m, const std::vector<LayerStats>& stats, const quant::QuantOptions& q,
                        bool covariance, int passes, std::map<std::string, quant::QuantizedWeight>* out,
                        double* mse_before, double* mse_after);

// Hook after the activation ranges are chosen: runs the refinements of the config on the weights, judges each by
// the output cosine of the fixed-point model on `eval_samples` (logged before -> after), updates `qopt` and, when
// anything changed, the QDQ model `qdq` and its `report`. `held_out`: samples left out of the statistics. `pre`
// (may be null or inactive): layer statistics already gathered during calibration; else a pass is run here.
Status refine_weights(const config::CompileConfig& cfg, const ir::Model& optimized, runtime::GraphExecutor& float_exec,
                      const calib::CalibrationDataset& data, const std::vector<size_t>& held_out,
                      const std::vector<size_t>& eval_samples, const calib::CalibrationTable& table,
                      LayerCollector* pre, quant::QuantOptions* qopt, ir::Model* qdq, quant::QuantReport* report,
                      Log* log);

}  // namespace kaiwu::compiler
