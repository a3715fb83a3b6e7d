// Semantic checks of a read CompileConfig (spec §1.1-§1.5) and the march mapping.
#include <algorithm>
#include <set>

#include "config/compile_config.h"
#include "config/parse_context.h"
#include "config/value_syntax.h"

namespace kaiwu::config {

namespace {

const std::vector<std::string> kJ5Marches = {"bernoulli2", "bayes", "bayes-e"};
const std::vector<std::string> kJ6Marches = {"nash-e", "nash-m", "nash-p", "nash-h", "nash-b",
                                             "nash-b-lite", "nash-b-plus", "nash-starry-p"};
const std::vector<std::string> kKaiwuMarches = {"x86-avx512vnni", "x86-avx2", "generic"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string o;
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + v[i];
  return o;
}

}  // namespace

const std::vector<std::string>& known_marches() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> a = kKaiwuMarches;
    a.insert(a.end(), kJ5Marches.begin(), kJ5Marches.end());
    a.insert(a.end(), kJ6Marches.begin(), kJ6Marches.end());
    return a;
  }();
  return all;
}

MarchFamily march_family(const std::string& m) {
  if (contains(kJ5Marches, m)) return MarchFamily::kJ5;
  if (contains(kJ6Marches, m)) return MarchFamily::kJ6;
  if (contains(kKaiwuMarches, m)) return MarchFamily::kKaiwu;
  return MarchFamily::kUnknown;
}

std::string resolve_march(const std::string& m, const std::string& host_target, std::string* notice) {
  if (notice) notice->clear();
  std::string host = contains(kKaiwuMarches, host_target) ? host_target : "generic";
  switch (march_family(m)) {
    case MarchFamily::kKaiwu: {
      auto rank = [](const std::string& t) { return t == "x86-avx512vnni" ? 2 : t == "x86-avx2" ? 1 : 0; };
      if (notice && rank(m) > rank(host))
        *notice = "march '" + m + "' needs instructions this host lacks (it runs " + host +
                  "); the compiled model will not run here";
      return m;
    }
    case MarchFamily::kJ5:
    case MarchFamily::kJ6:
      if (notice)
        *notice = "march '" + m + "' is a Horizon BPU target; kaiwu compiles for this host's CPU (" + host + ") instead";
      return host;
    default:
      if (notice) *notice = "unknown march '" + m + "'" + detail::suggest(m, known_marches());
      return "";
  }
}

namespace detail {

int train_channels(const std::string& t) {
  if (t == "rgb" || t == "bgr" || t == "yuv444") return 3;
  if (t == "gray") return 1;
  return 0;
}

Status check_input_shape(const ParseContext& ctx, const CompileConfig& c, const InputParameters& in, const std::string& who) {
  const std::string g = "input_parameters.";
  if (in.shape.empty()) return Status::Ok();
  if (in.type_train != "featuremap") {
    int ch = train_channels(in.type_train);
    if (in.shape.size() != 4)
      return ctx.fail(g + "input_shape", who + "an image input needs a 4-D shape, got " + std::to_string(in.shape.size()) + " dims");
    int64_t c_dim = in.layout_train == "NHWC" ? in.shape[3] : in.shape[1];
    if (c_dim != ch)
      return ctx.fail(g + "input_layout_train", who + "input_type_train " + in.type_train + " has " + std::to_string(ch) +
                                                    " channel(s) but input_shape with layout " + in.layout_train +
                                                    " has " + std::to_string(c_dim));
    int64_t h = in.layout_train == "NHWC" ? in.shape[1] : in.shape[2];
    int64_t w = in.layout_train == "NHWC" ? in.shape[2] : in.shape[3];
    if (in.type_rt == "nv12" && (h % 2 || w % 2))
      return ctx.fail(g + "input_shape", who + "nv12 type does not support odd size (" + std::to_string(h) + "x" +
                                             std::to_string(w) + ")");
  }
  if (c.batch.input_batch > 1 && in.shape[0] != 1)
    return ctx.fail(g + "input_batch", who + "input_batch needs input_shape[0] == 1, got " + std::to_string(in.shape[0]));
  return Status::Ok();
}

namespace {

const std::vector<std::string> kTypesRt = {"nv12", "yuv444", "rgb", "bgr", "gray", "featuremap",
                                           "yuv444_128", "yuv_bt601_full", "yuv_bt601_video"};
const std::vector<std::string> kTypesTrain = {"rgb", "bgr", "yuv444", "gray", "featuremap"};
const std::vector<std::string> kNormTypes = {"no_preprocess", "data_mean", "data_scale", "data_std",
                                             "data_mean_and_scale", "data_mean_and_std"};
const std::vector<std::string> kRemovable = {"Quantize", "Transpose", "Dequantize", "Cast", "Reshape",
                                             "Softmax", "DequantizeFilter", "FilterCopy", "RlePostProcess"};
const std::vector<std::string> kCalibTypes = {"default", "max", "kl", "mse", "percentile", "load", "skip"};
const std::vector<std::string> kOptimizations = {
    "set_model_output_int8", "set_model_output_int16", "set_all_nodes_int16", "set_Softmax_input_int8",
    "set_Softmax_output_int8", "set_Softmax_input_int16", "set_Softmax_output_int16", "run_fast"};

// Legal input_type_train -> input_type_rt (identical types are always legal).
bool legal_pair(const std::string& train, const std::string& rt) {
  if (train == rt) return true;
  static const std::vector<std::string> from_rgb = {"rgb", "bgr", "nv12", "yuv444", "yuv444_128",
                                                    "yuv_bt601_full", "yuv_bt601_video"};
  if (train == "rgb" || train == "bgr") return contains(from_rgb, rt);
  if (train == "yuv444") return rt == "yuv444_128" || rt == "nv12";
  return false;
}

Status check_one_of(const ParseContext& ctx, const std::string& key, const std::string& what, const std::string& v,
                    const std::vector<std::string>& allowed) {
  if (contains(allowed, v)) return Status::Ok();
  return ctx.fail(key, what + "'" + v + "' is not one of " + join(allowed) + suggest(v, allowed));
}

std::string derive_norm(const InputParameters& in) {
  bool m = !in.mean.empty(), s = !in.scale.empty(), d = !in.std.empty();
  if (m && s) return "data_mean_and_scale";
  if (m && d) return "data_mean_and_std";
  if (m) return "data_mean";
  if (s) return "data_scale";
  if (d) return "data_std";
  return "no_preprocess";
}

Status validate_input(ParseContext& ctx, const CompileConfig& c, size_t i, InputParameters* in) {
  const std::string g = "input_parameters.";
  std::string who = "input " + std::to_string(i + 1) + (in->name.empty() ? "" : " '" + in->name + "'") + ": ";
  if (in->type_rt.empty()) return ctx.fail(g + "input_type_rt", who + "input_type_rt is required (one of " + join(kTypesRt) + ")");
  if (in->type_train.empty())
    return ctx.fail(g + "input_type_train", who + "input_type_train is required (one of " + join(kTypesTrain) + ")");
  KW_RETURN_IF_ERROR(check_one_of(ctx, g + "input_type_rt", who, in->type_rt, kTypesRt));
  KW_RETURN_IF_ERROR(check_one_of(ctx, g + "input_type_train", who, in->type_train, kTypesTrain));
  if (!legal_pair(in->type_train, in->type_rt))
    return ctx.fail(g + "input_type_rt", who + "input_type_train '" + in->type_train + "' cannot be fed as input_type_rt '" +
                                             in->type_rt + "'");
  bool fm = in->type_train == "featuremap";
  if (in->layout_train.empty() && !fm)
    return ctx.fail(g + "input_layout_train", who + "input_layout_train is required (NCHW or NHWC) for a non-featuremap input");
  if (!in->layout_train.empty()) KW_RETURN_IF_ERROR(check_one_of(ctx, g + "input_layout_train", who, in->layout_train, {"NCHW", "NHWC"}));
  if (!in->layout_rt.empty()) {
    KW_RETURN_IF_ERROR(check_one_of(ctx, g + "input_layout_rt", who, in->layout_rt, {"NCHW", "NHWC"}));
    if (i == 0) ctx.warn(g + "input_layout_rt", "deprecated and ignored (the model keeps its layout)");
  }
  KW_RETURN_IF_ERROR(check_one_of(ctx, g + "input_space_and_range", who, in->space_and_range, {"regular", "bt601_video"}));
  if (in->space_and_range == "bt601_video" && in->type_rt != "nv12")
    return ctx.fail(g + "input_space_and_range", who + "bt601_video is only allowed with input_type_rt nv12");

  int ch = train_channels(in->type_train);
  KW_RETURN_IF_ERROR(check_input_shape(ctx, c, *in, who));

  struct V { const char* key; std::vector<double>* v; };
  for (V v : {V{"mean_value", &in->mean}, V{"scale_value", &in->scale}, V{"std_value", &in->std}}) {
    if (v.v->empty()) continue;
    std::string key = g + v.key;
    if (fm) return ctx.fail(key, who + v.key + " cannot be used on a featuremap input (no preprocessing is inserted)");
    if (v.v->size() == 1) v.v->assign(ch, (*v.v)[0]);
    else if (static_cast<int>(v.v->size()) != ch)
      return ctx.fail(key, who + std::to_string(v.v->size()) + " values given, " + in->type_train + " has " +
                               std::to_string(ch) + " channel(s) (or give one value for all)");
    if (std::string(v.key) == "std_value")
      for (double x : *v.v)
        if (x == 0) return ctx.fail(key, who + "std_value must be non-zero (it divides)");
  }
  if (!in->scale.empty() && !in->std.empty())
    return ctx.fail(g + "std_value", who + "scale_value and std_value cannot both be set (std = 1/scale)");
  if (in->norm_type_given) {
    KW_RETURN_IF_ERROR(check_one_of(ctx, g + "norm_type", who, in->norm_type, kNormTypes));
    if (i == 0 && march_family(c.model.march) != MarchFamily::kJ5)
      ctx.warn(g + "norm_type", "deprecated: derived from which of mean_value/scale_value/std_value are set");
    bool want_m = in->norm_type.find("mean") != std::string::npos, want_s = in->norm_type.find("scale") != std::string::npos,
         want_d = in->norm_type.find("std") != std::string::npos;
    struct N { bool want; std::vector<double>* v; const char* key; };
    for (N n : {N{want_m, &in->mean, "mean_value"}, N{want_s, &in->scale, "scale_value"}, N{want_d, &in->std, "std_value"}}) {
      if (n.want && n.v->empty())
        return ctx.fail(g + "norm_type", who + "norm_type " + in->norm_type + " needs " + n.key);
      if (!n.want && !n.v->empty()) {
        ctx.warn(g + n.key, who + "ignored because norm_type is " + in->norm_type);
        n.v->clear();
      }
    }
  } else {
    in->norm_type = derive_norm(*in);
  }
  if (!in->cal_data_type.empty())
    KW_RETURN_IF_ERROR(check_one_of(ctx, "calibration_parameters.cal_data_type", who, in->cal_data_type,
                                    {"float32", "uint8", "int32", "int16", "int8"}));
  return Status::Ok();
}

Status validate_sources(ParseContext& ctx, CompileConfig* c) {
  const std::string key = "compiler_parameters.input_source";
  for (const auto& [name, src] : c->compiler.input_source) {
    InputParameters* in = nullptr;
    for (auto& x : c->inputs)
      if (x.name == name || (x.name.empty() && c->inputs.size() == 1)) in = &x;
    if (!in) {
      std::vector<std::string> names;
      for (auto& x : c->inputs) names.push_back(x.name);
      return ctx.fail(key, "'" + name + "' is not an input (input_name: " + join(names) + ")" + suggest(name, names));
    }
    KW_RETURN_IF_ERROR(check_one_of(ctx, key, "'" + name + "': ", src, {"ddr", "pyramid", "resizer"}));
    in->source = src;
  }
  for (auto& in : c->inputs) {
    if (in.source.empty()) in.source = (in.type_rt == "nv12" || in.type_rt == "gray") ? "pyramid" : "ddr";
    if (in.source != "ddr" && in.type_rt != "nv12" && in.type_rt != "gray")
      return ctx.fail(key, "input '" + in.name + "': " + in.source + " only supports nv12 or gray, not " + in.type_rt);
    if (in.source == "ddr" && in.type_rt == "nv12")
      return ctx.fail(key, "input '" + in.name + "': nv12 cannot come from ddr (use pyramid or resizer)");
  }
  return Status::Ok();
}

}  // namespace

Status validate_config(ParseContext& ctx, CompileConfig* c) {
  // model_parameters
  ModelParameters& m = c->model;
  const std::string g = "model_parameters.";
  if (m.onnx_model.empty()) {
    if (!m.caffe_model.empty() || !m.prototxt.empty())
      return unsupported(ctx.at(g + "caffe_model") + ": caffe models are not supported; convert the model to ONNX and set onnx_model");
    return ctx.fail(g + "onnx_model", "onnx_model is required (path of the float ONNX model)");
  }
  if (!m.caffe_model.empty() || !m.prototxt.empty())
    return ctx.fail(g + "caffe_model", "caffe_model/prototxt cannot be combined with onnx_model");
  if (m.march.empty()) return ctx.fail(g + "march", "march is required (one of " + join(known_marches()) + ")");
  if (march_family(m.march) == MarchFamily::kUnknown)
    return ctx.fail(g + "march", "unknown march '" + m.march + "' (one of " + join(known_marches()) + ")" + suggest(m.march, known_marches()));
  MarchFamily fam = march_family(m.march);
  if (m.output_model_file_prefix.empty() || m.output_model_file_prefix.find('/') != std::string::npos)
    return ctx.fail(g + "output_model_file_prefix", "must be a non-empty file name prefix without '/'");
  for (const auto& t : m.remove_node_type)
    KW_RETURN_IF_ERROR(check_one_of(ctx, g + "remove_node_type", "", t, kRemovable));
  if (!m.debug_mode.empty()) KW_RETURN_IF_ERROR(check_one_of(ctx, g + "debug_mode", "", m.debug_mode, {"dump_calibration_data"}));

  // input_parameters
  for (size_t i = 0; i < c->inputs.size(); ++i) KW_RETURN_IF_ERROR(validate_input(ctx, *c, i, &c->inputs[i]));
  BatchParameters& b = c->batch;
  if (fam == MarchFamily::kJ5 && b.input_batch > 1 && c->inputs.size() > 1)
    return ctx.fail("input_parameters.input_batch", "J5 march '" + m.march + "' supports input_batch > 1 only for single-input models");
  if (m.march == "bernoulli2")
    for (const auto& in : c->inputs)
      if (in.type_rt == "yuv444" && in.layout_rt == "NCHW")
        return ctx.fail("input_parameters.input_layout_rt", "yuv444 with NCHW run-time layout is not supported on bernoulli2");
  if (m.enable_vpu && fam == MarchFamily::kJ5) ctx.warn(g + "enable_vpu", "only meaningful for J6 marches (ignored)");
  if (b.separate_batch && !b.separate_name.empty())
    return ctx.fail("input_parameters.separate_name", "separate_name and separate_batch cannot both be set");
  for (const auto& s : b.separate_name) {
    bool found = false;
    std::vector<std::string> names;
    for (auto& in : c->inputs) names.push_back(in.name), found |= in.name == s;
    if (!found) return ctx.fail("input_parameters.separate_name", "'" + s + "' is not an input" + suggest(s, names));
  }

  // calibration_parameters
  CalibrationParameters& cal = c->calibration;
  const std::string cg = "calibration_parameters.";
  if (cal.calibration_type == "mix") {
    ctx.warn(cg + "calibration_type", "'mix' is deprecated, using 'default'");
    cal.calibration_type = "default";
  }
  KW_RETURN_IF_ERROR(check_one_of(ctx, cg + "calibration_type", "", cal.calibration_type, kCalibTypes));
  if (cal.max_percentile && (*cal.max_percentile <= 0 || *cal.max_percentile > 1))
    return ctx.fail(cg + "max_percentile", "must be in (0, 1], got " + format_number(*cal.max_percentile));
  bool has_data = std::any_of(c->inputs.begin(), c->inputs.end(), [](const InputParameters& in) { return !in.cal_data_dir.empty(); });
  if (!has_data && cal.calibration_type != "skip" && cal.calibration_type != "load") {
    ctx.warn(cg + "calibration_type", "no cal_data_dir given: calibration_type '" + cal.calibration_type +
                                          "' becomes 'skip' (random data, accuracy is meaningless)");
    cal.calibration_type = "skip";
  }
  for (const auto& f : cal.optimization)
    if (!contains(kOptimizations, f))
      return ctx.fail(cg + "optimization", "unknown flag '" + f + "' (known: " + join(kOptimizations) + ")" + suggest(f, kOptimizations));
  for (const auto& n : cal.run_on_cpu)
    if (contains(cal.run_on_bpu, n)) return ctx.fail(cg + "run_on_bpu", "node '" + n + "' is in both run_on_cpu and run_on_bpu");
  if (contains(cal.optimization, "set_model_output_int8") && contains(cal.optimization, "set_model_output_int16"))
    return ctx.fail(cg + "optimization", "set_model_output_int8 and set_model_output_int16 cannot both be set");
  if (cal.calibration_type == "load" && cal.load_model.empty())
    return ctx.fail(cg + "calibration_type", "calibration_type 'load' needs calibration_parameters.load_model: the "
                                             "QDQ/QAT ONNX model whose QuantizeLinear scales give the ranges");
  if (!cal.load_model.empty() && cal.calibration_type != "load")
    ctx.warn(cg + "load_model", "only used by calibration_type load, not '" + cal.calibration_type + "'");
  if (cal.max_percentile && cal.calibration_type != "max" && cal.calibration_type != "percentile")
    ctx.warn(cg + "max_percentile", "only used by calibration_type max/percentile, not '" + cal.calibration_type + "'");
  auto merge_on = [&](const std::vector<std::string>& names, const std::string& on, const std::string& key) {
    for (const auto& n : names) {
      std::string& cur = m.node_info[n].on;
      if (cur.empty()) cur = on;
      else if (cur != on) ctx.warn(cg + key, "node '" + n + "': node_info sets ON " + cur + ", which wins over " + key);
    }
  };
  merge_on(cal.run_on_cpu, "CPU", "run_on_cpu");
  merge_on(cal.run_on_bpu, "BPU", "run_on_bpu");

  // compiler_parameters
  CompilerParameters& cp = c->compiler;
  const std::string pg = "compiler_parameters.";
  KW_RETURN_IF_ERROR(check_one_of(ctx, pg + "compile_mode", "", cp.compile_mode, {"latency", "bandwidth", "balance"}));
  if (cp.compile_mode == "balance" && !cp.balance_factor)
    return ctx.fail(pg + "compile_mode", "compile_mode 'balance' needs balance_factor (0..100)");
  KW_RETURN_IF_ERROR(check_one_of(ctx, pg + "optimize_level", "", cp.optimize_level, {"O0", "O1", "O2", "O3"}));
  if (fam == MarchFamily::kJ6 && cp.optimize_level == "O3")
    return ctx.fail(pg + "optimize_level", "O3 is not available for J6 march '" + m.march + "' (use O0..O2)");
  int max_cores = fam == MarchFamily::kJ5 ? 2 : fam == MarchFamily::kKaiwu ? 256
                 : (m.march == "nash-h" || m.march == "nash-p") ? 4 : 1;
  if (cp.core_num > max_cores)
    return ctx.fail(pg + "core_num", "march '" + m.march + "' allows at most " + std::to_string(max_cores) + " core(s), got " +
                                         std::to_string(cp.core_num));
  if (cp.max_time_per_fc != 0 && cp.max_time_per_fc < 1000)
    return ctx.fail(pg + "max_time_per_fc", "must be 0 or 1000..4294967295 us, got " + std::to_string(cp.max_time_per_fc));
  if (cp.max_l2m_size > 0 && (m.march == "nash-b" || m.march == "nash-e" || m.march == "nash-m"))
    return ctx.fail(pg + "max_l2m_size", "not available for march '" + m.march + "'");
  if (cp.hbdk3_compatible_mode) ctx.warn(pg + "hbdk3_compatible_mode", "deprecated (hbm3 output); ignored by kaiwu");
  KW_RETURN_IF_ERROR(validate_sources(ctx, c));
  return Status::Ok();
}

}  // namespace detail
}  // namespace kaiwu::config
