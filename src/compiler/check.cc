#include "compiler/check.h"

#include <filesystem>

#include "calib/calibrate.h"
#include "compiler/pipeline.h"
#include "config/compile_config.h"
#include "config/value_syntax.h"
#include "kaiwu/version.h"
#include "kernels/cpu_info.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"

namespace kaiwu::compiler {
namespace {

// The static shape of each model input: model dims, dynamic ones from `given` (or 1 for the batch dim when
// `batch_default`); a dim still unknown is an error naming the input (or a warning in config-gen).
Status input_shapes_of(const ir::Model& m, const std::map<std::string, Shape>& given, bool lenient,
                       std::map<std::string, Shape>* out, std::vector<std::string>* warnings) {
  for (const auto& in : compiler::model_inputs_of(m)) {
    auto g = given.find(in.name);
    if (g != given.end()) {
      if (g->second.size() != in.shape.size())
        return invalid_argument("input '" + in.name + "': the given shape " + shape_to_string(g->second) + " has rank " +
                                std::to_string(g->second.size()) + ", the model's input has rank " +
                                std::to_string(in.shape.size()));
      (*out)[in.name] = g->second;
      continue;
    }
    Shape s;
    for (size_t d = 0; d < in.shape.size(); ++d) {
      if (in.shape[d] > 0) {
        s.push_back(in.shape[d]);
      } else if (d == 0) {
        s.push_back(1);
      } else if (lenient) {
        // A spatial dim of an image-like input (4-D, 1 or 3 channels first or last) gets 224, others 1.
        const auto& sh = in.shape;
        const bool image = sh.size() == 4 && (sh[1] == 1 || sh[1] == 3 || sh[3] == 1 || sh[3] == 3);
        const int64_t v = image ? 224 : 1;
        s.push_back(v);
        if (warnings)
          warnings->push_back("input '" + in.name + "' has a dynamic dim " + std::to_string(d) + ": written as " +
                              std::to_string(v) + ", set input_shape to the size you calibrate with");
      } else {
        std::string model_shape;
        for (size_t k = 0; k < in.shape.size(); ++k)
          model_shape += (k ? "x" : "") + (in.shape[k] > 0 ? std::to_string(in.shape[k]) : std::string("?"));
        return invalid_argument("input '" + in.name + "' (shape " + model_shape + ") has a dynamic dim " +
                                std::to_string(d) + ": give its shape with --input-shape " + in.name +
                                "=1x3x224x224 (for example)");
      }
    }
    (*out)[in.name] = s;
  }
  for (const auto& [name, s] : given)
    if (!out->count(name)) return invalid_argument("--input-shape: the model has no input '" + name + "'");
  return Status::Ok();
}

std::string shape_text(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r;
}

}  // namespace

Status check_model(const CheckOptions& opt, CheckResult* result) {
  *result = CheckResult();
  Log log(opt.echo);
  log.info("Start kaiwu compile check mode (kaiwu " KAIWU_VERSION_STRING "): " + opt.model);
  std::string notice, march = opt.march.empty() ? kernels::host_target() : opt.march;
  std::string target = config::resolve_march(march, kernels::host_target(), &notice);
  if (target.empty()) return invalid_argument("--march: " + notice);
  if (!notice.empty()) log.info(notice);
  log.info("march: " + march + " -> target " + target);

  ir::Model original, optimized;
  KW_RETURN_IF_ERROR(load_float_model(opt.model, &original));
  std::map<std::string, Shape> shapes;
  KW_RETURN_IF_ERROR(input_shapes_of(original, opt.input_shapes, false, &shapes, nullptr).with_context(opt.model));
  KW_RETURN_IF_ERROR(optimize_float_model(original, shapes, &optimized, &log));

  std::vector<calib::InputSpec> specs;
  for (const auto& in : optimized.graph.inputs) {
    specs.push_back({in.name, in.dtype != DType::kUndefined ? in.dtype : DType::kF32, shapes[in.name]});
    log.info("input " + in.name + ": " + dtype_name(specs.back().dtype) + " " + shape_text(specs.back().shape));
  }
  calib::CalibrationDataset data = calib::CalibrationDataset::random(specs, opt.samples, opt.seed);
  log.info("calibration: " + std::to_string(data.size()) + " random samples (seed " + std::to_string(opt.seed) +
           "); thresholds are not meaningful, the precision of each node is");
  SessionOptions so;
  so.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> exec;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(optimized, so, &exec));
  calib::Statistics stats;
  KW_RETURN_IF_ERROR(calib::collect_statistics(*exec, data, {}, calib::ObserverKind::kMinMax, &stats));
  calib::CalibrationTable table;
  calib::SelectOptions sel;
  sel.method = calib::RangeMethod::kMax;
  KW_RETURN_IF_ERROR(calib::make_calibration_table(stats, sel, &table));
  std::map<std::string, quant::TensorRange> ranges = quant_ranges(table);
  ir::Model qdq = optimized;
  quant::QuantReport report;
  KW_RETURN_IF_ERROR(quant::insert_qdq(qdq, ranges, quant::QuantOptions(), &report));

  result->rows = node_rows(optimized.graph, report, nullptr, nullptr);
  for (const auto& r : result->rows) {
    if (r.dtype == "int8") ++result->nodes_int8;
    else if (r.dtype == "int16") ++result->nodes_int16;
    else ++result->nodes_float;
  }
  log.info("The node information (check mode, no calibration data):");
  log.info(check_table(result->rows));
  for (const auto& note : report.notes) log.info("note: " + note);
  log.info(std::to_string(result->nodes_int8) + " int8, " + std::to_string(result->nodes_int16) + " int16, " +
           std::to_string(result->nodes_float) + " float rows. Convert with a yaml: kaiwu config-gen -m " + opt.model +
           " -o config.yaml, then kaiwu compile -c config.yaml");
  result->report = log.text();
  return Status::Ok();
}

Status generate_config(const ConfigGenOptions& opt, std::string* yaml, std::vector<std::string>* warnings) {
  namespace fs = std::filesystem;
  ir::Model m;
  KW_RETURN_IF_ERROR(load_float_model(opt.model, &m));
  std::map<std::string, Shape> shapes;
  KW_RETURN_IF_ERROR(input_shapes_of(m, {}, true, &shapes, warnings).with_context(opt.model));
  std::string march = opt.march.empty() ? kernels::host_target() : opt.march;
  if (config::resolve_march(march, kernels::host_target(), nullptr).empty())
    return invalid_argument("--march: unknown march '" + march + "'" + config::detail::suggest(march, config::known_marches()));

  // onnx_model relative to the yaml's folder (the parser resolves it against that folder).
  fs::path model_abs = fs::absolute(opt.model).lexically_normal();
  fs::path yaml_dir = fs::absolute(opt.yaml_path.empty() ? fs::path("config.yaml") : fs::path(opt.yaml_path))
                          .parent_path()
                          .lexically_normal();
  std::string model_ref = model_abs.lexically_relative(yaml_dir).string();
  if (model_ref.empty() || model_ref.rfind("../../../", 0) == 0) model_ref = model_abs.string();
  std::string prefix = fs::path(opt.model).stem().string();
  if (prefix.empty()) prefix = "model";

  config::CompileConfig c;
  c.model.onnx_model = model_ref;
  c.model.march = march;
  c.model.working_dir = "model_output";
  c.model.output_model_file_prefix = prefix;
  bool any_layout = false;
  for (const auto& in : m.graph.inputs) {
    config::InputParameters p;
    p.name = in.name;
    p.shape = shapes[in.name];
    const Shape& s = p.shape;
    p.type_train = "featuremap";
    if (s.size() == 4 && (s[1] == 1 || s[1] == 3)) {
      p.type_train = s[1] == 3 ? "rgb" : "gray";
      p.layout_train = "NCHW";
    } else if (s.size() == 4 && (s[3] == 1 || s[3] == 3)) {
      p.type_train = s[3] == 3 ? "rgb" : "gray";
      p.layout_train = "NHWC";
    } else if (s.size() == 4) {
      p.layout_train = "NCHW";
    }
    any_layout |= !p.layout_train.empty();
    p.type_rt = p.type_train;
    p.norm_type = "no_preprocess";
    // J6 and kaiwu marches derive norm_type from mean/scale/std (writing it is deprecated there).
    p.norm_type_given = config::march_family(march) == config::MarchFamily::kJ5;
    c.inputs.push_back(p);
  }
  if (opt.full) {
    *yaml = "# Written by `kaiwu config-gen --full -m " + opt.model + "` (kaiwu " KAIWU_VERSION_STRING
            "). Point cal_data_dir at one folder of .npy samples per input, then: kaiwu compile -c <this file>\n" +
            config::config_to_yaml(c);
    return Status::Ok();
  }
  auto list = [&](auto get) {
    std::string r;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      std::string v = get(c.inputs[i]);
      r += (i ? ";" : "") + (v.empty() ? std::string("None") : v);
    }
    return config::detail::yaml_quote(r);
  };
  std::string y;
  y += "# Written by `kaiwu config-gen -m " + opt.model + "` (kaiwu " KAIWU_VERSION_STRING ").\n";
  y += "# Check the guessed input types, then: kaiwu compile -c <this file>   (all keys: kaiwu config-gen --full)\n";
  y += "model_parameters:\n";
  y += "  onnx_model: " + config::detail::yaml_quote(model_ref) + "\n";
  y += "  # x86-avx512vnni, x86-avx2, generic; Horizon names (nash-e, bayes-e, ...) map to this host's CPU\n";
  y += "  march: " + config::detail::yaml_quote(march) + "\n";
  y += "  working_dir: 'model_output'\n";
  y += "  output_model_file_prefix: " + config::detail::yaml_quote(prefix) + "\n";
  y += "\ninput_parameters:\n";
  y += "  input_name: " + list([](const config::InputParameters& p) { return p.name; }) + "\n";
  y += "  input_shape: " + list([](const config::InputParameters& p) { return shape_text(p.shape); }) + "\n";
  y += "  # rgb bgr gray yuv444 featuremap (guessed from the shape: 4-D with 3 or 1 channels is an image)\n";
  y += "  input_type_train: " + list([](const config::InputParameters& p) { return p.type_train; }) + "\n";
  y += "  input_type_rt: " + list([](const config::InputParameters& p) { return p.type_rt; }) + "\n";
  if (any_layout)
    y += "  input_layout_train: " + list([](const config::InputParameters& p) { return p.layout_train; }) + "\n";
  y += "  # the calibration data is already preprocessed exactly like training data (mean/std applied)\n";
  y += std::string(c.inputs.empty() || c.inputs[0].norm_type_given ? "  " : "  # (derived from mean_value / "
       "scale_value / std_value for this march; none set)\n  # ") +
       "norm_type: " + list([](const config::InputParameters& p) { return p.norm_type; }) + "\n";
  y += "\ncalibration_parameters:\n";
  y += "  # one folder of .npy samples (numpy.save, the model's input shape) per input, 20-100 samples, preprocessed\n"
       "  # like training data. Without it kaiwu calibrates on random data and the accuracy is MEANINGLESS.\n";
  y += "  # cal_data_dir: " + list([](const config::InputParameters& p) { return "./calibration_data/" + p.name; }) + "\n";
  y += "  # default (searches max, percentile, kl, mse by output cosine), max, kl, mse, percentile, load, skip\n";
  y += "  calibration_type: 'default'\n";
  y += "\ncompiler_parameters:\n";
  y += "  optimize_level: 'O2'\n";
  *yaml = y;
  return Status::Ok();
}

}  // namespace kaiwu::compiler
