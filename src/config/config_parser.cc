// Reading the yaml into CompileConfig: groups, known keys, value syntax, types. Checks live in config_validate.cc.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "config/compile_config.h"
#include "config/parse_context.h"
#include "config/value_syntax.h"
#include "core/file_util.h"

namespace kaiwu::config {
namespace detail {

std::string ParseContext::at_mark(const YAML::Mark& m) const {
  if (m.is_null()) return origin;
  return origin + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string ParseContext::at(const std::string& where) const {
  auto it = marks.find(where);
  return it == marks.end() ? origin : at_mark(it->second);
}

Status ParseContext::fail(const std::string& key, const std::string& msg) const {
  return invalid_argument(at(key) + ": " + key + ": " + msg);
}

void ParseContext::warn(const std::string& key, const std::string& msg) const {
  if (warnings) warnings->push_back(at(key) + ": " + key + ": " + msg);
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  namespace fs = std::filesystem;
  fs::path path(p);
  if (path.is_relative()) path = fs::path(base_dir) / path;
  return path.lexically_normal().string();
}

}  // namespace detail

namespace {

using detail::ParseContext;

const std::vector<std::string> kGroups = {"model_parameters", "input_parameters", "calibration_parameters",
                                          "compiler_parameters", "custom_op"};

const std::map<std::string, std::vector<std::string>>& group_keys() {
  static const std::map<std::string, std::vector<std::string>> k = {
      {"model_parameters",
       {"onnx_model", "caffe_model", "prototxt", "march", "working_dir", "output_model_file_prefix", "layer_out_dump",
        "output_nodes", "remove_node_type", "remove_node_name", "node_info", "set_node_data_type", "debug_mode",
        "enable_vpu", "log_level"}},
      {"input_parameters",
       {"input_name", "input_shape", "input_type_rt", "input_type_train", "input_layout_train", "input_layout_rt",
        "input_space_and_range", "input_batch", "separate_batch", "separate_name", "norm_type", "mean_value",
        "scale_value", "std_value"}},
      {"calibration_parameters",
       {"cal_data_dir", "cal_data_type", "calibration_type", "max_percentile", "per_channel", "run_on_cpu",
        "run_on_bpu", "optimization", "quant_config", "preprocess_on", "enable_int16", "load_model", "asymmetric"}},
      {"compiler_parameters",
       {"compile_mode", "balance_factor", "optimize_level", "debug", "core_num", "max_time_per_fc", "jobs",
        "input_source", "advice", "ability_entry", "hbdk3_compatible_mode", "extra_params", "cache_mode", "cache_path",
        "max_l2m_size"}},
      {"custom_op", {"custom_op_method", "op_register_files", "custom_op_dir"}},
  };
  return k;
}

bool is_optimization_flag(const std::string& key) {
  return key.rfind("set_", 0) == 0 || key == "run_fast";
}

// Reads the groups and their keys into ctx.values / ctx.marks; unknown keys fail (calibration: warn + extra).
Status read_groups(const YAML::Node& root, ParseContext& ctx, CompileConfig* c, std::vector<std::string>* split_flags) {
  for (const auto& g : root) {
    std::string group = g.first.IsScalar() ? g.first.Scalar() : std::string("?");
    if (!group_keys().count(group)) {
      std::string hint = detail::suggest(group, kGroups);
      if (hint.empty()) hint = " (groups: model_parameters, input_parameters, calibration_parameters, "
                               "compiler_parameters, custom_op)";
      return invalid_argument(ctx.at_mark(g.first.Mark()) + ": unknown group '" + group + "'" + hint);
    }
    if (ctx.marks.count(group)) return invalid_argument(ctx.at_mark(g.first.Mark()) + ": group '" + group + "' given twice");
    ctx.marks[group] = g.first.Mark();
    if (group == "custom_op") c->custom_op.given = true;
    if (g.second.IsNull()) continue;  // `group:` with nothing under it
    if (!g.second.IsMap()) return invalid_argument(ctx.at_mark(g.first.Mark()) + ": " + group + " must be a mapping of keys");
    const std::vector<std::string>& keys = group_keys().at(group);
    for (const auto& kv : g.second) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
      std::string full = group + "." + key;
      if (ctx.marks.count(full)) return invalid_argument(ctx.at_mark(kv.first.Mark()) + ": key '" + key + "' given twice in " + group);
      ctx.marks[full] = kv.first.Mark();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        // A key of another group gets a precise hint.
        std::string other;
        for (const auto& [gname, gkeys] : group_keys())
          if (gname != group && std::find(gkeys.begin(), gkeys.end(), key) != gkeys.end()) other = gname;
        if (group == "calibration_parameters" && kv.second.IsNull() && is_optimization_flag(key)) {
          // `optimization: a,b` inside a flow mapping {...} splits into `optimization: a` and a key `b`.
          ctx.warn(full, "'" + key + "' taken as an optimization flag (a ',' inside {...} ends the value; quote the list)");
          split_flags->push_back(key);
          continue;
        }
        if (group == "calibration_parameters") {
          ctx.warn(full, "unknown calibration key '" + key + "' passed through to the quantizer as is" +
                             (other.empty() ? detail::suggest(key, keys) : "; it belongs to " + other));
          c->calibration.extra.emplace_back(key, detail::yaml_to_json(kv.second));
          continue;
        }
        std::string hint = other.empty() ? detail::suggest(key, keys) : "; it belongs to " + other;
        return invalid_argument(ctx.at_mark(kv.first.Mark()) + ": unknown key '" + key + "' in " + group + hint);
      }
      ctx.values[full] = kv.second;
    }
  }
  return Status::Ok();
}

// Typed getters. All return Ok and leave *out untouched when the key is absent or null.
struct Reader {
  ParseContext& ctx;

  const YAML::Node* node(const std::string& key) const {
    auto it = ctx.values.find(key);
    if (it == ctx.values.end() || it->second.IsNull()) return nullptr;
    return &it->second;
  }
  Status scalar(const std::string& key, std::string* out, bool* given = nullptr) const {
    const YAML::Node* n = node(key);
    if (!n) return Status::Ok();
    if (!n->IsScalar()) return ctx.fail(key, "expected a single value, got a " + std::string(n->IsMap() ? "mapping" : "list"));
    *out = detail::strip_quotes(n->Scalar());
    if (given) *given = true;
    return Status::Ok();
  }
  Status boolean(const std::string& key, bool* out) const {
    const YAML::Node* n = node(key);
    if (!n) return Status::Ok();
    bool v;
    if (!n->IsScalar() || n->Tag() == "!" || !YAML::convert<bool>::decode(*n, v))
      return ctx.fail(key, "must be a yaml bool (true/false), got " +
                               (n->IsScalar() ? "'" + n->Scalar() + "'" + (n->Tag() == "!" ? " (quoted: a string)" : "")
                                              : std::string("a non-scalar")));
    *out = v;
    return Status::Ok();
  }
  Status integer(const std::string& key, int64_t lo, int64_t hi, int64_t* out, bool* given = nullptr) const {
    std::string s;
    bool g = false;
    KW_RETURN_IF_ERROR(scalar(key, &s, &g));
    if (!g) return Status::Ok();
    int64_t v;
    if (!detail::parse_int64(s, &v)) return ctx.fail(key, "expected an integer, got '" + s + "'");
    if (v < lo || v > hi)
      return ctx.fail(key, "value " + std::to_string(v) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    *out = v;
    if (given) *given = true;
    return Status::Ok();
  }
  template <class T>
  Status integer_as(const std::string& key, int64_t lo, int64_t hi, T* out, bool* given = nullptr) const {
    int64_t v = *out;
    KW_RETURN_IF_ERROR(integer(key, lo, hi, &v, given));
    *out = static_cast<T>(v);
    return Status::Ok();
  }
  // A `;`-list (a yaml list is accepted too). `given` is false when the key is absent or null.
  Status list(const std::string& key, std::vector<std::optional<std::string>>* out, bool* given) const {
    *given = false;
    const YAML::Node* n = node(key);
    if (!n) return Status::Ok();
    out->clear();
    if (n->IsScalar()) {
      *out = detail::split_input_list(n->Scalar());
    } else if (n->IsSequence()) {
      for (const auto& e : *n) {
        if (e.IsNull()) out->push_back(std::nullopt);
        else if (!e.IsScalar()) return ctx.fail(key, "list items must be single values");
        else {
          std::string s = detail::strip_quotes(e.Scalar());
          if (s.empty() || s == "None") out->push_back(std::nullopt);
          else out->push_back(s);
        }
      }
    } else {
      return ctx.fail(key, "expected a ';'-separated list");
    }
    *given = true;
    return Status::Ok();
  }
  // A list of names (not-set entries dropped).
  Status names(const std::string& key, std::vector<std::string>* out) const {
    std::vector<std::optional<std::string>> l;
    bool given;
    KW_RETURN_IF_ERROR(list(key, &l, &given));
    out->clear();
    for (auto& e : l)
      if (e) out->push_back(*e);
    return Status::Ok();
  }
};

// node_info / set_node_data_type: `'a:int16;b:int8'` or `{name: {ON: BPU, InputType: int16, ...}}`.
Status read_node_info(const Reader& r, const std::string& key, std::map<std::string, NodeInfo>* out) {
  const YAML::Node* n = r.node(key);
  if (!n) return Status::Ok();
  auto check_type = [&](const std::string& node, const std::string& field, const std::string& v) -> Status {
    if (v == "int8" || v == "int16") return Status::Ok();
    return r.ctx.fail(key, "node '" + node + "' " + field + " '" + v + "' must be int8 or int16" +
                               detail::suggest(v, {"int8", "int16"}));
  };
  if (n->IsScalar()) {
    for (const auto& item : detail::split_input_list(n->Scalar())) {
      if (!item) continue;
      size_t p = item->rfind(':');
      if (p == std::string::npos || p == 0)
        return r.ctx.fail(key, "item '" + *item + "' must be 'node_name:int8' or 'node_name:int16'");
      std::string name = detail::trim(item->substr(0, p)), type = detail::trim(item->substr(p + 1));
      KW_RETURN_IF_ERROR(check_type(name, "OutputType", type));
      (*out)[name].output_type = type;
    }
    return Status::Ok();
  }
  if (!n->IsMap()) return r.ctx.fail(key, "expected 'name:type;...' or a mapping {node_name: {ON: ..., OutputType: ...}}");
  static const std::vector<std::string> fields = {"ON", "InputType", "InputType0", "InputType1", "OutputType"};
  for (const auto& kv : *n) {
    std::string name = kv.first.Scalar();
    NodeInfo& info = (*out)[name];
    if (!kv.second.IsMap())
      return r.ctx.fail(key, "node '" + name + "' must map to {ON: BPU|CPU, InputType: int8|int16, OutputType: int8|int16}");
    for (const auto& f : kv.second) {
      std::string field = f.first.Scalar();
      if (!f.second.IsScalar()) return r.ctx.fail(key, "node '" + name + "' " + field + " must be a single value");
      std::string v = detail::strip_quotes(f.second.Scalar());
      if (field == "ON") {
        std::string up;
        for (char ch : v) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (up != "BPU" && up != "CPU") return r.ctx.fail(key, "node '" + name + "' ON '" + v + "' must be BPU or CPU");
        info.on = up;
      } else if (field == "InputType") {
        KW_RETURN_IF_ERROR(check_type(name, field, v));
        info.input_type = v;
      } else if (field == "OutputType") {
        KW_RETURN_IF_ERROR(check_type(name, field, v));
        info.output_type = v;
      } else if (field.rfind("InputType", 0) == 0 && field.size() > 9 &&
                 field.find_first_not_of("0123456789", 9) == std::string::npos && field.size() < 13) {
        KW_RETURN_IF_ERROR(check_type(name, field, v));
        info.input_type_at[std::stoi(field.substr(9))] = v;
      } else {
        return r.ctx.fail(key, "node '" + name + "' has unknown field '" + field + "' (at " + r.ctx.at_mark(f.first.Mark()) +
                                   ")" + detail::suggest(field, fields));
      }
    }
  }
  return Status::Ok();
}

// The quant_config value: an inline mapping, inline JSON text, or a JSON file path.
Status read_quant_config(const Reader& r, CalibrationParameters* cal) {
  const std::string key = "calibration_parameters.quant_config";
  const YAML::Node* n = r.node(key);
  if (!n) return Status::Ok();
  if (n->IsMap()) {
    cal->quant_config_json = detail::yaml_to_json(*n);
    return Status::Ok();
  }
  if (!n->IsScalar()) return r.ctx.fail(key, "expected a mapping or the path of a JSON file");
  std::string text = detail::trim(n->Scalar());
  if (text.empty()) return Status::Ok();
  std::string json_text = text;
  if (text[0] != '{') {
    cal->quant_config_path = detail::resolve_path(r.ctx.base_dir, text);
    Status s = read_file(cal->quant_config_path, &json_text);
    if (!s.ok()) return r.ctx.fail(key, "cannot read the quant_config JSON file: " + s.message());
  }
  YAML::Node parsed;
  try {
    parsed = YAML::Load(json_text);
  } catch (const YAML::Exception& e) {
    std::string where = cal->quant_config_path.empty() ? "inline JSON" : cal->quant_config_path;
    return r.ctx.fail(key, "invalid JSON in " + where + " at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!parsed.IsMap()) return r.ctx.fail(key, "quant_config must be a JSON object");
  cal->quant_config_json = detail::yaml_to_json(parsed);
  return Status::Ok();
}

Status read_model(const Reader& r, ModelParameters* m) {
  const std::string g = "model_parameters.";
  KW_RETURN_IF_ERROR(r.scalar(g + "onnx_model", &m->onnx_model));
  KW_RETURN_IF_ERROR(r.scalar(g + "caffe_model", &m->caffe_model));
  KW_RETURN_IF_ERROR(r.scalar(g + "prototxt", &m->prototxt));
  KW_RETURN_IF_ERROR(r.scalar(g + "march", &m->march));
  std::string wd = "./model_output";
  KW_RETURN_IF_ERROR(r.scalar(g + "working_dir", &wd));
  if (wd.empty()) wd = "./model_output";
  m->working_dir = detail::resolve_path(r.ctx.base_dir, wd);
  KW_RETURN_IF_ERROR(r.scalar(g + "output_model_file_prefix", &m->output_model_file_prefix));
  KW_RETURN_IF_ERROR(r.boolean(g + "layer_out_dump", &m->layer_out_dump));
  KW_RETURN_IF_ERROR(r.names(g + "output_nodes", &m->output_nodes));
  KW_RETURN_IF_ERROR(r.names(g + "remove_node_type", &m->remove_node_type));
  KW_RETURN_IF_ERROR(r.names(g + "remove_node_name", &m->remove_node_name));
  if (r.node(g + "set_node_data_type")) {
    r.ctx.warn(g + "set_node_data_type", "deprecated, use node_info (node_info wins where both name a node)");
    KW_RETURN_IF_ERROR(read_node_info(r, g + "set_node_data_type", &m->node_info));
  }
  std::map<std::string, NodeInfo> ni;
  KW_RETURN_IF_ERROR(read_node_info(r, g + "node_info", &ni));
  for (auto& [name, info] : ni) m->node_info[name] = info;
  KW_RETURN_IF_ERROR(r.scalar(g + "debug_mode", &m->debug_mode));
  KW_RETURN_IF_ERROR(r.boolean(g + "enable_vpu", &m->enable_vpu));
  if (r.ctx.has(g + "log_level"))
    r.ctx.warn(g + "log_level", "deprecated and ignored (the console shows INFO, the log file DEBUG)");
  if (!m->onnx_model.empty()) m->onnx_model = detail::resolve_path(r.ctx.base_dir, m->onnx_model);
  return Status::Ok();
}

// Per-input lists: each must have exactly n entries when given.
Status per_input(const Reader& r, const std::string& key, size_t n, std::vector<std::optional<std::string>>* out) {
  bool given;
  KW_RETURN_IF_ERROR(r.list(key, out, &given));
  if (!given) {
    out->assign(n, std::nullopt);
    return Status::Ok();
  }
  if (out->size() != n)
    return r.ctx.fail(key, "wrong number of entries: " + std::to_string(out->size()) + " given, " + std::to_string(n) +
                               " expected (one per input named by input_name" +
                               (r.ctx.has("input_parameters.input_name") ? "" : ", which is required for several inputs") +
                               "; separate entries with ';')");
  return Status::Ok();
}

Status read_inputs(const Reader& r, CompileConfig* c) {
  const std::string g = "input_parameters.";
  std::vector<std::optional<std::string>> names;
  bool names_given;
  KW_RETURN_IF_ERROR(r.list(g + "input_name", &names, &names_given));
  if (!names_given) names.assign(1, std::nullopt);
  size_t n = names.size();
  c->inputs.assign(n, InputParameters());
  for (size_t i = 0; i < n; ++i) {
    if (!names[i] && n > 1) return r.ctx.fail(g + "input_name", "entry " + std::to_string(i + 1) + " is empty");
    if (names[i]) c->inputs[i].name = *names[i];
    for (size_t j = 0; j < i; ++j)
      if (names[i] && c->inputs[j].name == *names[i]) return r.ctx.fail(g + "input_name", "input '" + *names[i] + "' listed twice");
  }
  auto str_list = [&](const std::string& key, std::string InputParameters::*field) -> Status {
    std::vector<std::optional<std::string>> l;
    KW_RETURN_IF_ERROR(per_input(r, g + key, n, &l));
    for (size_t i = 0; i < n; ++i)
      if (l[i]) c->inputs[i].*field = *l[i];
    return Status::Ok();
  };
  KW_RETURN_IF_ERROR(str_list("input_type_rt", &InputParameters::type_rt));
  KW_RETURN_IF_ERROR(str_list("input_type_train", &InputParameters::type_train));
  KW_RETURN_IF_ERROR(str_list("input_layout_train", &InputParameters::layout_train));
  KW_RETURN_IF_ERROR(str_list("input_layout_rt", &InputParameters::layout_rt));
  KW_RETURN_IF_ERROR(str_list("input_space_and_range", &InputParameters::space_and_range));
  KW_RETURN_IF_ERROR(str_list("norm_type", &InputParameters::norm_type));
  for (auto& in : c->inputs) in.norm_type_given = !in.norm_type.empty();

  std::vector<std::optional<std::string>> l;
  KW_RETURN_IF_ERROR(per_input(r, g + "input_shape", n, &l));
  for (size_t i = 0; i < n; ++i) {
    if (!l[i]) continue;
    for (const std::string& d : detail::split_words(*l[i], "xX,")) {
      int64_t v;
      if (!detail::parse_int64(d, &v) || v <= 0)
        return r.ctx.fail(g + "input_shape", "input " + std::to_string(i + 1) + ": '" + *l[i] +
                                                 "' is not a shape like 1x3x224x224 (positive dims)");
      c->inputs[i].shape.push_back(v);
    }
  }
  auto num_list = [&](const std::string& key, std::vector<double> InputParameters::*field) -> Status {
    std::vector<std::optional<std::string>> nl;
    KW_RETURN_IF_ERROR(per_input(r, g + key, n, &nl));
    for (size_t i = 0; i < n; ++i) {
      if (!nl[i]) continue;
      std::string bad;
      if (!detail::parse_numbers(*nl[i], &(c->inputs[i].*field), &bad))
        return r.ctx.fail(g + key, "input " + std::to_string(i + 1) + ": '" + bad + "' is not a number");
    }
    return Status::Ok();
  };
  KW_RETURN_IF_ERROR(num_list("mean_value", &InputParameters::mean));
  KW_RETURN_IF_ERROR(num_list("scale_value", &InputParameters::scale));
  KW_RETURN_IF_ERROR(num_list("std_value", &InputParameters::std));

  // Per-input keys of calibration_parameters.
  KW_RETURN_IF_ERROR(per_input(r, "calibration_parameters.cal_data_dir", n, &l));
  for (size_t i = 0; i < n; ++i)
    if (l[i]) c->inputs[i].cal_data_dir = detail::resolve_path(r.ctx.base_dir, *l[i]);
  if (r.node("calibration_parameters.cal_data_type")) {
    r.ctx.warn("calibration_parameters.cal_data_type", "deprecated: save calibration data with numpy.save (.npy)");
    KW_RETURN_IF_ERROR(per_input(r, "calibration_parameters.cal_data_type", n, &l));
    for (size_t i = 0; i < n; ++i)
      if (l[i]) c->inputs[i].cal_data_type = *l[i];
  }

  BatchParameters& b = c->batch;
  KW_RETURN_IF_ERROR(r.integer_as(g + "input_batch", 1, 128, &b.input_batch, &b.input_batch_given));
  KW_RETURN_IF_ERROR(r.boolean(g + "separate_batch", &b.separate_batch));
  KW_RETURN_IF_ERROR(r.names(g + "separate_name", &b.separate_name));
  return Status::Ok();
}

Status read_calibration(const Reader& r, CalibrationParameters* cal) {
  const std::string g = "calibration_parameters.";
  KW_RETURN_IF_ERROR(r.scalar(g + "calibration_type", &cal->calibration_type));
  if (cal->calibration_type.empty()) cal->calibration_type = "default";
  std::string mp;
  bool mp_given = false;
  KW_RETURN_IF_ERROR(r.scalar(g + "max_percentile", &mp, &mp_given));
  if (mp_given) {
    std::vector<double> v;
    if (!detail::parse_numbers(mp, &v, nullptr) || v.size() != 1)
      return r.ctx.fail(g + "max_percentile", "expected a number in (0, 1], got '" + mp + "'");
    cal->max_percentile = v[0];
  }
  KW_RETURN_IF_ERROR(r.boolean(g + "per_channel", &cal->per_channel));
  KW_RETURN_IF_ERROR(r.names(g + "run_on_cpu", &cal->run_on_cpu));
  KW_RETURN_IF_ERROR(r.names(g + "run_on_bpu", &cal->run_on_bpu));
  std::string opt;
  if (const YAML::Node* on = r.node(g + "optimization"); on && on->IsSequence()) {
    for (const auto& e : *on) {
      if (!e.IsScalar()) return r.ctx.fail(g + "optimization", "list items must be flag names");
      opt += " " + e.Scalar();
    }
  } else {
    KW_RETURN_IF_ERROR(r.scalar(g + "optimization", &opt));
  }
  std::vector<std::string> flags = detail::split_words(opt, ",;");
  cal->optimization.insert(cal->optimization.begin(), flags.begin(), flags.end());
  KW_RETURN_IF_ERROR(read_quant_config(r, cal));
  std::string lm;
  KW_RETURN_IF_ERROR(r.scalar(g + "load_model", &lm));
  if (!lm.empty()) cal->load_model = detail::resolve_path(r.ctx.base_dir, lm);
  KW_RETURN_IF_ERROR(r.boolean(g + "asymmetric", &cal->asymmetric));
  if (!cal->quant_config_json.empty()) {  // the HMCT form: {"activation": {"asymmetric": true}}
    YAML::Node qc = YAML::Load(cal->quant_config_json);
    if (qc.IsMap() && qc["activation"] && qc["activation"].IsMap() && qc["activation"]["asymmetric"]) {
      const YAML::Node a = qc["activation"]["asymmetric"];
      bool v = false;
      if (!a.IsScalar() || !YAML::convert<bool>::decode(a, v))
        return r.ctx.fail(g + "quant_config", "activation.asymmetric must be true or false");
      cal->asymmetric = cal->asymmetric || v;
    }
  }
  KW_RETURN_IF_ERROR(r.boolean(g + "preprocess_on", &cal->preprocess_on));
  if (r.ctx.has(g + "preprocess_on"))
    r.ctx.warn(g + "preprocess_on", "deprecated: prepare calibration data as .npy tensors instead (ignored)");
  if (r.ctx.has(g + "enable_int16"))
    r.ctx.warn(g + "enable_int16", "deprecated (J5 legacy) and ignored; use node_info or quant_config for int16");
  return Status::Ok();
}

Status read_compiler(const Reader& r, CompilerParameters* cp) {
  const std::string g = "compiler_parameters.";
  KW_RETURN_IF_ERROR(r.scalar(g + "compile_mode", &cp->compile_mode));
  bool bf_given = false;
  int bf = 0;
  KW_RETURN_IF_ERROR(r.integer_as(g + "balance_factor", 0, 100, &bf, &bf_given));
  if (bf_given) cp->balance_factor = bf;
  KW_RETURN_IF_ERROR(r.scalar(g + "optimize_level", &cp->optimize_level));
  KW_RETURN_IF_ERROR(r.boolean(g + "debug", &cp->debug));
  KW_RETURN_IF_ERROR(r.integer_as(g + "core_num", 1, 256, &cp->core_num));
  KW_RETURN_IF_ERROR(r.integer(g + "max_time_per_fc", 0, 4294967295LL, &cp->max_time_per_fc));
  KW_RETURN_IF_ERROR(r.integer_as(g + "jobs", 1, 1024, &cp->jobs));
  if (const YAML::Node* n = r.node(g + "input_source")) {
    if (!n->IsMap()) return r.ctx.fail(g + "input_source", "expected a mapping {input_name: ddr|pyramid|resizer}");
    for (const auto& kv : *n) {
      if (!kv.second.IsScalar()) return r.ctx.fail(g + "input_source", "value of '" + kv.first.Scalar() + "' must be ddr, pyramid or resizer");
      cp->input_source[kv.first.Scalar()] = detail::strip_quotes(kv.second.Scalar());
    }
  }
  KW_RETURN_IF_ERROR(r.integer(g + "advice", 0, 4294967295LL, &cp->advice));
  KW_RETURN_IF_ERROR(r.scalar(g + "ability_entry", &cp->ability_entry));
  KW_RETURN_IF_ERROR(r.boolean(g + "hbdk3_compatible_mode", &cp->hbdk3_compatible_mode));
  if (const YAML::Node* n = r.node(g + "extra_params")) {
    if (!n->IsMap()) return r.ctx.fail(g + "extra_params", "expected a mapping, e.g. {input_no_padding: true}");
    cp->extra_params_json = detail::yaml_to_json(*n);
  }
  KW_RETURN_IF_ERROR(r.scalar(g + "cache_mode", &cp->cache_mode));
  KW_RETURN_IF_ERROR(r.scalar(g + "cache_path", &cp->cache_path));
  KW_RETURN_IF_ERROR(r.integer(g + "max_l2m_size", 0, 25165824, &cp->max_l2m_size));
  return Status::Ok();
}

Status read_custom_op(const Reader& r, CustomOp* co) {
  const std::string g = "custom_op.";
  KW_RETURN_IF_ERROR(r.scalar(g + "custom_op_method", &co->custom_op_method));
  if (co->custom_op_method != "register")
    return r.ctx.fail(g + "custom_op_method", "only 'register' is supported, got '" + co->custom_op_method + "'");
  KW_RETURN_IF_ERROR(r.scalar(g + "custom_op_dir", &co->custom_op_dir));
  if (!co->custom_op_dir.empty()) co->custom_op_dir = detail::resolve_path(r.ctx.base_dir, co->custom_op_dir);
  KW_RETURN_IF_ERROR(r.names(g + "op_register_files", &co->op_register_files));
  for (auto& f : co->op_register_files)
    f = detail::resolve_path(co->custom_op_dir.empty() ? r.ctx.base_dir : co->custom_op_dir, f);
  return Status::Ok();
}

}  // namespace

Status parse_config(const std::string& yaml_text, const std::string& origin, const std::string& base_dir,
                    CompileConfig* out, std::vector<std::string>* warnings) {
  ParseContext ctx;
  ctx.origin = origin.empty() ? "<config>" : origin;
  std::error_code ec;
  ctx.base_dir = std::filesystem::absolute(base_dir.empty() ? "." : base_dir, ec).lexically_normal().string();
  if (ec) ctx.base_dir = base_dir;
  ctx.warnings = warnings;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return invalid_argument(ctx.at_mark(e.mark) + ": yaml syntax error: " + e.msg);
  }
  if (root.IsNull()) return invalid_argument(ctx.origin + ": the config is empty");
  if (!root.IsMap())
    return invalid_argument(ctx.origin + ": the config must be a mapping of groups (model_parameters, input_parameters, ...)");
  CompileConfig c;
  c.origin = ctx.origin;
  try {
    KW_RETURN_IF_ERROR(read_groups(root, ctx, &c, &c.calibration.optimization));
    Reader r{ctx};
    KW_RETURN_IF_ERROR(read_model(r, &c.model));
    KW_RETURN_IF_ERROR(read_inputs(r, &c));
    KW_RETURN_IF_ERROR(read_calibration(r, &c.calibration));
    KW_RETURN_IF_ERROR(read_compiler(r, &c.compiler));
    KW_RETURN_IF_ERROR(read_custom_op(r, &c.custom_op));
  } catch (const YAML::Exception& e) {
    return invalid_argument(ctx.at_mark(e.mark) + ": unexpected yaml structure: " + e.msg);
  }
  KW_RETURN_IF_ERROR(detail::validate_config(ctx, &c));
  *out = std::move(c);
  return Status::Ok();
}

Status load_config(const std::string& yaml_path, CompileConfig* out, std::vector<std::string>* warnings) {
  std::string text;
  Status s = read_file(yaml_path, &text);
  if (!s.ok()) return s.with_context("config");
  std::filesystem::path p(yaml_path);
  return parse_config(text, yaml_path, p.has_parent_path() ? p.parent_path().string() : ".", out, warnings);
}

}  // namespace kaiwu::config
