// The `kaiwu compile` configuration: the Horizon J5/J6 PTQ yaml (spec horizon_ptq_spec.md §1), typed and validated.
// Paths are stored absolute (resolved against the yaml file's directory); per-input lists become one
// InputParameters per model input; optional values use std::optional / empty containers for "not set".
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kaiwu/status.h"

namespace kaiwu::config {

// Per-node overrides (node_info / run_on_cpu / run_on_bpu). Empty string = not set.
struct NodeInfo {
  std::string on;                             // "BPU" or "CPU"
  std::string input_type;                     // "int8" / "int16": every input
  std::map<int, std::string> input_type_at;   // InputType<k>: input k only
  std::string output_type;                    // "int8" / "int16"
  bool operator==(const NodeInfo& o) const;
  bool operator!=(const NodeInfo& o) const { return !(*this == o); }
};

struct ModelParameters {
  std::string onnx_model;                     // absolute path (required)
  std::string caffe_model, prototxt;          // accepted by the schema, rejected as unsupported
  std::string march;                          // as written (vendor or kaiwu name); see resolve_march
  std::string working_dir;                    // absolute; default <yaml dir>/model_output
  std::string output_model_file_prefix = "model";
  bool layer_out_dump = false;
  std::vector<std::string> output_nodes;
  std::vector<std::string> remove_node_type;  // order matters
  std::vector<std::string> remove_node_name;
  std::map<std::string, NodeInfo> node_info;  // merged: node_info > set_node_data_type > run_on_cpu/bpu
  std::string debug_mode;                     // "" or "dump_calibration_data"
  bool enable_vpu = false;
  bool operator==(const ModelParameters& o) const;
};

// One model input (the i-th entry of every `;`-list of input_parameters).
struct InputParameters {
  std::string name;                 // "" only when there is one input and input_name was not given
  std::vector<int64_t> shape;       // empty = take it from the model
  std::string type_rt;              // nv12 yuv444 rgb bgr gray featuremap yuv444_128 yuv_bt601_full yuv_bt601_video
  std::string type_train;           // rgb bgr yuv444 gray featuremap
  std::string layout_train;         // NCHW / NHWC ("" for featuremap when not given)
  std::string layout_rt;            // deprecated; "" when not given
  std::string space_and_range = "regular";  // regular / bt601_video (nv12 only)
  std::string norm_type;            // no_preprocess data_mean data_scale data_std data_mean_and_scale data_mean_and_std
  bool norm_type_given = false;     // false: derived from which of mean/scale/std are set
  std::vector<double> mean;         // empty = not set; else one value per channel (a scalar is broadcast)
  std::vector<double> scale;        // multiplier
  std::vector<double> std;          // divisor; exclusive with scale
  std::string source;               // ddr / pyramid / resizer (compiler_parameters.input_source or default)
  std::string cal_data_dir;         // absolute; "" = none (from calibration_parameters)
  std::string cal_data_type;        // deprecated; "" = inferred from the folder name
  bool operator==(const InputParameters& o) const;
};

struct BatchParameters {            // the group-wide (not per-input) keys of input_parameters
  int input_batch = 1;              // 1..128
  bool input_batch_given = false;
  bool separate_batch = false;
  std::vector<std::string> separate_name;
  bool operator==(const BatchParameters& o) const;
};

struct CalibrationParameters {
  std::string calibration_type = "default";  // default max kl mse percentile load skip ("mix" -> default)
  std::optional<double> max_percentile;      // (0, 1]
  bool per_channel = false;
  std::vector<std::string> run_on_cpu, run_on_bpu;  // as written (also merged into model.node_info)
  std::vector<std::string> optimization;     // flags, e.g. set_model_output_int8, run_fast
  std::string quant_config_path;             // absolute path when given as a JSON file, else ""
  std::string quant_config_json;             // the config as compact JSON text ("" = none)
  bool preprocess_on = false;                // deprecated
  // calibration_type `load` (kaiwu choice, spec UNCONFIRMED): the QDQ/QAT ONNX whose QuantizeLinear scales and
  // zero points give the activation ranges, matched by tensor name. Absolute path, "" = not set.
  std::string load_model;
  // Asymmetric (zero point != 0) int8 activations: `asymmetric: true` in calibration_parameters (J5 calibration
  // echo) or quant_config {"activation": {"asymmetric": true}} (J6 HMCT form). Default symmetric.
  bool asymmetric = false;
  std::vector<std::pair<std::string, std::string>> extra;  // unknown keys, passed through: key -> JSON value
  bool operator==(const CalibrationParameters& o) const;
};

struct CompilerParameters {
  std::string compile_mode = "latency";      // latency / bandwidth / balance
  std::optional<int> balance_factor;         // 0..100, required for balance
  std::string optimize_level = "O2";         // O0..O3 (O3 not for J6 marches)
  bool debug = true;
  int core_num = 1;
  int64_t max_time_per_fc = 0;               // 0 or 1000..4294967295 us
  int jobs = 16;
  std::map<std::string, std::string> input_source;  // as written: input name -> ddr / pyramid / resizer
  int64_t advice = 0;
  std::string ability_entry;
  bool hbdk3_compatible_mode = false;
  std::string extra_params_json = "{}";     // compact JSON object
  std::string cache_mode = "disable";
  std::string cache_path;
  int64_t max_l2m_size = 0;
  bool operator==(const CompilerParameters& o) const;
};

struct CustomOp {
  bool given = false;
  std::string custom_op_method = "register";
  std::vector<std::string> op_register_files;  // absolute (relative ones resolve against custom_op_dir)
  std::string custom_op_dir;                   // absolute, "" when not given
  bool operator==(const CustomOp& o) const;
};

struct CompileConfig {
  std::string origin;                          // the yaml file (for messages), not compared
  ModelParameters model;
  std::vector<InputParameters> inputs;         // at least one
  BatchParameters batch;
  CalibrationParameters calibration;
  CompilerParameters compiler;
  CustomOp custom_op;
  bool operator==(const CompileConfig& o) const;
  bool operator!=(const CompileConfig& o) const { return !(*this == o); }
};

// Reads, parses and validates the yaml at `yaml_path`; relative paths resolve against its directory.
// Deprecated / passed-through keys add a message to `warnings` (may be null).
Status load_config(const std::string& yaml_path, CompileConfig* out, std::vector<std::string>* warnings);
// Same on yaml text; `origin` names it in messages, `base_dir` resolves relative paths.
Status parse_config(const std::string& yaml_text, const std::string& origin, const std::string& base_dir,
                    CompileConfig* out, std::vector<std::string>* warnings);
// A complete, commented yaml for `config`; parse_config(config_to_yaml(c)) == c.
std::string config_to_yaml(const CompileConfig& config);
// The entries of a node_info map as yaml lines, one quoted name and flow mapping per node:
// "<indent>'name': {ON: 'CPU', InputType0: 'int16', OutputType: 'int16'}\n".
std::string node_info_to_yaml(const std::map<std::string, NodeInfo>& node_info, const std::string& indent);

// One input of the float model, as the compile driver reads it from the ONNX graph (dims <= 0 are dynamic).
struct ModelInput {
  std::string name;
  std::vector<int64_t> shape;
};
// Matches the config's inputs to the model's: a single unnamed input takes the model's only input name; every
// config input must exist in the model and every model input must be listed; input_shape defaults to the model's
// shape (required when it has dynamic dims) and must agree with its static dims; shape checks run again.
Status bind_model_inputs(const std::vector<ModelInput>& model_inputs, CompileConfig* config);

enum class MarchFamily { kUnknown, kJ5, kJ6, kKaiwu };
// Which generation a march name belongs to (kKaiwu: x86-avx512vnni, x86-avx2, generic).
MarchFamily march_family(const std::string& march);
// The kaiwu target to compile for: our own targets are kept, Horizon names map to `host_target`
// (kaiwu::kernels::host_target()); `notice` explains a mapping or a mismatch. "" for an unknown march.
std::string resolve_march(const std::string& march, const std::string& host_target, std::string* notice);
// Every march name load_config accepts.
const std::vector<std::string>& known_marches();

}  // namespace kaiwu::config
