// config_to_yaml (for `kaiwu config-gen`) and the equality operators used by the round-trip test.
#include <sstream>
#include <tuple>

#include "config/compile_config.h"
#include "config/value_syntax.h"

namespace kaiwu::config {

bool NodeInfo::operator==(const NodeInfo& o) const {
  return std::tie(on, input_type, input_type_at, output_type) == std::tie(o.on, o.input_type, o.input_type_at, o.output_type);
}

bool ModelParameters::operator==(const ModelParameters& o) const {
  return std::tie(onnx_model, caffe_model, prototxt, march, working_dir, output_model_file_prefix, layer_out_dump,
                  output_nodes, remove_node_type, remove_node_name, node_info, debug_mode, enable_vpu) ==
         std::tie(o.onnx_model, o.caffe_model, o.prototxt, o.march, o.working_dir, o.output_model_file_prefix,
                  o.layer_out_dump, o.output_nodes, o.remove_node_type, o.remove_node_name, o.node_info, o.debug_mode,
                  o.enable_vpu);
}

bool InputParameters::operator==(const InputParameters& o) const {
  return std::tie(name, shape, type_rt, type_train, layout_train, layout_rt, space_and_range, norm_type, norm_type_given,
                  mean, scale, std, source, cal_data_dir, cal_data_type) ==
         std::tie(o.name, o.shape, o.type_rt, o.type_train, o.layout_train, o.layout_rt, o.space_and_range, o.norm_type,
                  o.norm_type_given, o.mean, o.scale, o.std, o.source, o.cal_data_dir, o.cal_data_type);
}

bool BatchParameters::operator==(const BatchParameters& o) const {
  return std::tie(input_batch, input_batch_given, separate_batch, separate_name) ==
         std::tie(o.input_batch, o.input_batch_given, o.separate_batch, o.separate_name);
}

bool CalibrationParameters::operator==(const CalibrationParameters& o) const {
  return std::tie(calibration_type, max_percentile, per_channel, run_on_cpu, run_on_bpu, optimization, quant_config_path,
                  quant_config_json, preprocess_on, extra, load_model, asymmetric) ==
         std::tie(o.calibration_type, o.max_percentile, o.per_channel, o.run_on_cpu, o.run_on_bpu, o.optimization,
                  o.quant_config_path, o.quant_config_json, o.preprocess_on, o.extra, o.load_model, o.asymmetric);
}

bool CompilerParameters::operator==(const CompilerParameters& o) const {
  return std::tie(compile_mode, balance_factor, optimize_level, debug, core_num, max_time_per_fc, jobs, input_source,
                  advice, ability_entry, hbdk3_compatible_mode, extra_params_json, cache_mode, cache_path, max_l2m_size) ==
         std::tie(o.compile_mode, o.balance_factor, o.optimize_level, o.debug, o.core_num, o.max_time_per_fc, o.jobs,
                  o.input_source, o.advice, o.ability_entry, o.hbdk3_compatible_mode, o.extra_params_json, o.cache_mode,
                  o.cache_path, o.max_l2m_size);
}

bool CustomOp::operator==(const CustomOp& o) const {
  return std::tie(given, custom_op_method, op_register_files, custom_op_dir) ==
         std::tie(o.given, o.custom_op_method, o.op_register_files, o.custom_op_dir);
}

bool CompileConfig::operator==(const CompileConfig& o) const {
  return model == o.model && inputs == o.inputs && batch == o.batch && calibration == o.calibration &&
         compiler == o.compiler && custom_op == o.custom_op;
}

namespace {

using detail::format_number;
using detail::yaml_quote;

const char* yb(bool b) { return b ? "true" : "false"; }

// A ';'-list as one quoted scalar, or a yaml list when an item itself contains ';'.
std::string yaml_list(const std::vector<std::string>& v) {
  bool semi = false;
  for (const auto& s : v) semi |= s.find(';') != std::string::npos;
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) o += (i ? (semi ? ", " : ";") : "") + (semi ? yaml_quote(v[i]) : v[i]);
  return semi ? "[" + o + "]" : yaml_quote(o);
}

std::string numbers(const std::vector<double>& v) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) o += (i ? " " : "") + format_number(v[i]);
  return o;
}

// `;`-joined per-input field ("" entries written as None).
template <class F>
std::string per_input(const std::vector<InputParameters>& ins, F field) {
  std::vector<std::string> items;
  for (const auto& in : ins) {
    std::string v = field(in);
    items.push_back(v.empty() && ins.size() > 1 ? std::string("None") : v);
  }
  return yaml_list(items);
}

template <class F>
bool any_input(const std::vector<InputParameters>& ins, F field) {
  for (const auto& in : ins)
    if (!field(in).empty()) return true;
  return false;
}

}  // namespace

std::string node_info_to_yaml(const std::map<std::string, NodeInfo>& node_info, const std::string& indent) {
  std::string y;
  for (const auto& [name, ni] : node_info) {
    std::string f;
    auto add = [&](const std::string& k, const std::string& v) {
      if (!v.empty()) f += (f.empty() ? "" : ", ") + k + ": " + yaml_quote(v);
    };
    add("ON", ni.on);
    add("InputType", ni.input_type);
    for (const auto& [k, v] : ni.input_type_at) add("InputType" + std::to_string(k), v);
    add("OutputType", ni.output_type);
    y += indent + yaml_quote(name) + ": {" + f + "}\n";
  }
  return y;
}

std::string config_to_yaml(const CompileConfig& c) {
  std::ostringstream y;
  const ModelParameters& m = c.model;
  y << "# kaiwu compile configuration (Horizon J5/J6 PTQ yaml schema). Relative paths resolve against this file's folder.\n"
       "model_parameters:\n"
       "  # float ONNX model to quantize\n"
       "  onnx_model: " << yaml_quote(m.onnx_model) << "\n"
       "  # target: x86-avx512vnni, x86-avx2, generic, or a Horizon name (bayes-e, nash-e, ...) = this host's CPU\n"
       "  march: " << yaml_quote(m.march) << "\n"
       "  # folder of every artifact (created if missing) and their file name prefix\n"
       "  working_dir: " << yaml_quote(m.working_dir) << "\n"
       "  output_model_file_prefix: " << yaml_quote(m.output_model_file_prefix) << "\n"
       "  # dump every layer's output (slow, debug only)\n"
       "  layer_out_dump: " << yb(m.layer_out_dump) << "\n";
  y << "  # ';'-list of node names that become the model outputs\n";
  y << (m.output_nodes.empty() ? "  # output_nodes: ''\n" : "  output_nodes: " + yaml_list((m.output_nodes)) + "\n");
  y << "  # remove I/O-adjacent nodes by type (Quantize;Dequantize;Transpose;Cast;Reshape;Softmax) or by name\n";
  y << (m.remove_node_type.empty() ? "  # remove_node_type: ''\n"
                                   : "  remove_node_type: " + yaml_list((m.remove_node_type)) + "\n");
  y << (m.remove_node_name.empty() ? "  # remove_node_name: ''\n"
                                   : "  remove_node_name: " + yaml_list((m.remove_node_name)) + "\n");
  y << "  # per-node overrides: {node: {ON: BPU|CPU, InputType: int8|int16, InputType<k>: ..., OutputType: ...}}\n";
  if (m.node_info.empty()) {
    y << "  # node_info: {}\n";
  } else {
    y << "  node_info:\n" << node_info_to_yaml(m.node_info, "    ");
  }
  y << "  # dump_calibration_data: save the preprocessed calibration tensors for the debug tool\n";
  y << (m.debug_mode.empty() ? "  # debug_mode: dump_calibration_data\n" : "  debug_mode: " + yaml_quote(m.debug_mode) + "\n");
  y << "  enable_vpu: " << yb(m.enable_vpu) << "\n\n";

  const auto& ins = c.inputs;
  y << "input_parameters:\n"
       "  # every per-input value is a ';'-list with one entry per input, in input_name order (None = not set)\n";
  y << "  input_name: " << (per_input(ins, [](const InputParameters& i) { return i.name; })) << "\n";
  if (any_input(ins, [](const InputParameters& i) { return i.shape; })) {
    y << "  input_shape: " << (per_input(ins, [](const InputParameters& i) {
      std::string s;
      for (size_t k = 0; k < i.shape.size(); ++k) s += (k ? "x" : "") + std::to_string(i.shape[k]);
      return s;
    })) << "\n";
  } else {
    y << "  # input_shape: '1x3x224x224'  (default: from the model)\n";
  }
  y << "  # data fed at run time: nv12 yuv444 rgb bgr gray featuremap\n";
  y << "  input_type_rt: " << (per_input(ins, [](const InputParameters& i) { return i.type_rt; })) << "\n";
  y << "  # data the model was trained on: rgb bgr yuv444 gray featuremap\n";
  y << "  input_type_train: " << (per_input(ins, [](const InputParameters& i) { return i.type_train; })) << "\n";
  y << "  # NCHW or NHWC (not needed for featuremap)\n";
  y << "  input_layout_train: " << (per_input(ins, [](const InputParameters& i) { return i.layout_train; })) << "\n";
  if (any_input(ins, [](const InputParameters& i) { return i.layout_rt; }))
    y << "  input_layout_rt: " << (per_input(ins, [](const InputParameters& i) { return i.layout_rt; })) << "\n";
  y << "  # regular (0-255) or bt601_video (16-235, nv12 only)\n";
  y << "  input_space_and_range: " << (per_input(ins, [](const InputParameters& i) { return i.space_and_range; }))
    << "\n";
  if (any_input(ins, [](const InputParameters& i) { return i.norm_type_given ? i.norm_type : std::string(); }))
    y << "  norm_type: " << (per_input(ins, [](const InputParameters& i) { return i.norm_type; })) << "\n";
  y << "  # preprocessing (x - mean) * scale, or (x - mean) / std; per channel, space separated\n";
  auto nums = [&](const char* key, std::vector<double> InputParameters::*f) {
    if (any_input(ins, [&](const InputParameters& i) { return i.*f; }))
      y << "  " << key << ": " << (per_input(ins, [&](const InputParameters& i) { return numbers(i.*f); })) << "\n";
    else
      y << "  # " << key << ": ''\n";
  };
  nums("mean_value", &InputParameters::mean);
  nums("scale_value", &InputParameters::scale);
  nums("std_value", &InputParameters::std);
  y << (c.batch.input_batch_given ? "  input_batch: " + std::to_string(c.batch.input_batch) + "\n" : "  # input_batch: 1\n");
  y << "  separate_batch: " << yb(c.batch.separate_batch) << "\n";
  if (!c.batch.separate_name.empty()) y << "  separate_name: " << yaml_list((c.batch.separate_name)) << "\n";
  y << "\n";

  const CalibrationParameters& cal = c.calibration;
  y << "calibration_parameters:\n"
       "  # one folder of .npy samples per input (20-100 samples)\n";
  if (any_input(ins, [](const InputParameters& i) { return i.cal_data_dir; }))
    y << "  cal_data_dir: " << (per_input(ins, [](const InputParameters& i) { return i.cal_data_dir; })) << "\n";
  else
    y << "  # cal_data_dir: './calibration_data'\n";
  if (any_input(ins, [](const InputParameters& i) { return i.cal_data_type; }))
    y << "  cal_data_type: " << (per_input(ins, [](const InputParameters& i) { return i.cal_data_type; })) << "\n";
  y << "  # default max kl mse percentile load skip\n";
  y << "  calibration_type: " << yaml_quote(cal.calibration_type) << "\n";
  y << (cal.max_percentile ? "  max_percentile: " + format_number(*cal.max_percentile) + "\n" : "  # max_percentile: 0.99999\n");
  y << "  per_channel: " << yb(cal.per_channel) << "\n";
  y << "  # asymmetric int8 activations (zero point != 0); default symmetric\n";
  y << "  asymmetric: " << yb(cal.asymmetric) << "\n";
  y << "  # calibration_type load: the QDQ/QAT ONNX whose QuantizeLinear scales give the activation ranges\n";
  y << (cal.load_model.empty() ? "  # load_model: './model_qdq.onnx'\n" : "  load_model: " + yaml_quote(cal.load_model) + "\n");
  y << (cal.run_on_cpu.empty() ? "  # run_on_cpu: ''\n" : "  run_on_cpu: " + yaml_list((cal.run_on_cpu)) + "\n");
  y << (cal.run_on_bpu.empty() ? "  # run_on_bpu: ''\n" : "  run_on_bpu: " + yaml_list((cal.run_on_bpu)) + "\n");
  y << "  # flags: set_model_output_int8 set_model_output_int16 set_all_nodes_int16 set_Softmax_input_int8 ... run_fast\n";
  std::string opt;
  for (size_t i = 0; i < cal.optimization.size(); ++i) opt += (i ? "," : "") + cal.optimization[i];
  y << (opt.empty() ? "  # optimization: ''\n" : "  optimization: " + yaml_quote(opt) + "\n");
  y << "  # a mapping or a JSON file, e.g. {\"model_config\": {\"all_node_type\": \"int16\"}}\n";
  if (!cal.quant_config_path.empty()) y << "  quant_config: " << yaml_quote(cal.quant_config_path) << "\n";
  else if (!cal.quant_config_json.empty()) y << "  quant_config: " << cal.quant_config_json << "\n";
  else y << "  # quant_config: {}\n";
  if (cal.preprocess_on) y << "  preprocess_on: true\n";
  for (const auto& [k, v] : cal.extra) y << "  " << k << ": " << v << "\n";
  y << "\n";

  const CompilerParameters& cp = c.compiler;
  y << "compiler_parameters:\n"
       "  # latency, bandwidth or balance (with balance_factor 0..100)\n"
       "  compile_mode: " << yaml_quote(cp.compile_mode) << "\n";
  y << (cp.balance_factor ? "  balance_factor: " + std::to_string(*cp.balance_factor) + "\n" : "  # balance_factor: 50\n");
  y << "  # O0..O3 (J6 marches: O0..O2)\n"
       "  optimize_level: " << yaml_quote(cp.optimize_level) << "\n"
       "  debug: " << yb(cp.debug) << "\n"
       "  core_num: " << cp.core_num << "\n"
       "  max_time_per_fc: " << cp.max_time_per_fc << "\n"
       "  jobs: " << cp.jobs << "\n";
  y << "  # {input_name: ddr|pyramid|resizer}; default pyramid for nv12/gray, ddr otherwise\n";
  if (cp.input_source.empty()) {
    y << "  # input_source: {}\n";
  } else {
    y << "  input_source: {";
    bool first = true;
    for (const auto& [k, v] : cp.input_source) y << (first ? "" : ", ") << yaml_quote(k) << ": " << yaml_quote(v), first = false;
    y << "}\n";
  }
  y << "  advice: " << cp.advice << "\n";
  if (!cp.ability_entry.empty()) y << "  ability_entry: " << yaml_quote(cp.ability_entry) << "\n";
  y << "  hbdk3_compatible_mode: " << yb(cp.hbdk3_compatible_mode) << "\n"
       "  extra_params: " << cp.extra_params_json << "\n"
       "  cache_mode: " << yaml_quote(cp.cache_mode) << "\n";
  if (!cp.cache_path.empty()) y << "  cache_path: " << yaml_quote(cp.cache_path) << "\n";
  y << "  max_l2m_size: " << cp.max_l2m_size << "\n";

  if (c.custom_op.given) {
    y << "\ncustom_op:\n"
         "  custom_op_method: " << yaml_quote(c.custom_op.custom_op_method) << "\n";
    if (!c.custom_op.custom_op_dir.empty()) y << "  custom_op_dir: " << yaml_quote(c.custom_op.custom_op_dir) << "\n";
    if (!c.custom_op.op_register_files.empty())
      y << "  op_register_files: " << yaml_list((c.custom_op.op_register_files)) << "\n";
  }
  return y.str();
}

}  // namespace kaiwu::config
