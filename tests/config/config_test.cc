// Tests of the compile config (Horizon J5/J6 yaml): real configs, value syntax, every error class, round trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/compile_config.h"

namespace kaiwu::config {
namespace {

const char* kBase = "/cfg/base";

struct Parsed {
  Status status;
  CompileConfig config;
  std::vector<std::string> warnings;
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.status = parse_config(text, "c.yaml", kBase, &p.config, &p.warnings);
  return p;
}

// A small valid config; `model`, `input`, `calib`, `compiler` are appended to their groups.
std::string cfg(const std::string& model = "", const std::string& input = "", const std::string& calib = "",
                const std::string& compiler = "") {
  return "model_parameters:\n  onnx_model: 'm.onnx'\n  march: 'nash-e'\n" + model +
         "input_parameters:\n  input_type_rt: 'nv12'\n  input_type_train: 'rgb'\n  input_layout_train: 'NCHW'\n" + input +
         "calibration_parameters:\n  cal_data_dir: './cal'\n" + calib + "compiler_parameters:\n  jobs: 4\n" + compiler;
}

void expect_error(const std::string& text, const std::vector<std::string>& fragments) {
  Parsed p = parse(text);
  ASSERT_FALSE(p.status.ok()) << text;
  for (const auto& f : fragments) EXPECT_NE(p.status.message().find(f), std::string::npos) << "missing '" << f << "' in: " << p.status.message();
}

bool has_warning(const Parsed& p, const std::string& fragment) {
  for (const auto& w : p.warnings)
    if (w.find(fragment) != std::string::npos) return true;
  return false;
}

TEST(Config, RealJ5Config) {
  Parsed p = parse(
      "model_parameters: {onnx_model: './yolo11s.onnx', march: \"bayes-e\", layer_out_dump: False,\n"
      "                   working_dir: 'bpu_model_output', output_model_file_prefix: 'yolo11s_detect_bayese_640x640_nv12'}\n"
      "input_parameters: {input_name: \"\", input_type_rt: 'nv12', input_type_train: 'rgb', input_layout_train: 'NCHW',\n"
      "                   norm_type: 'data_scale', scale_value: 0.003921568627451}\n"
      "calibration_parameters: {cal_data_dir: '../calibration_data_rgb_f32_coco_640', cal_data_type: 'float32',\n"
      "                         calibration_type: 'default', optimization: set_Softmax_input_int8,set_Softmax_output_int8}\n"
      "compiler_parameters: {jobs: 2, compile_mode: 'latency', debug: true, optimize_level: 'O3'}\n");
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const CompileConfig& c = p.config;
  EXPECT_EQ(c.model.onnx_model, "/cfg/base/yolo11s.onnx");
  EXPECT_EQ(c.model.march, "bayes-e");
  EXPECT_EQ(c.model.working_dir, "/cfg/base/bpu_model_output");
  EXPECT_EQ(c.model.output_model_file_prefix, "yolo11s_detect_bayese_640x640_nv12");
  EXPECT_FALSE(c.model.layer_out_dump);
  ASSERT_EQ(c.inputs.size(), 1u);
  const InputParameters& in = c.inputs[0];
  EXPECT_EQ(in.name, "");
  EXPECT_EQ(in.type_rt, "nv12");
  EXPECT_EQ(in.type_train, "rgb");
  EXPECT_EQ(in.layout_train, "NCHW");
  EXPECT_EQ(in.norm_type, "data_scale");
  EXPECT_TRUE(in.norm_type_given);
  EXPECT_EQ(in.scale, std::vector<double>(3, 0.003921568627451));
  EXPECT_TRUE(in.mean.empty());
  EXPECT_EQ(in.source, "pyramid");
  EXPECT_EQ(in.cal_data_dir, "/cfg/calibration_data_rgb_f32_coco_640");
  EXPECT_EQ(in.cal_data_type, "float32");
  EXPECT_EQ(c.calibration.calibration_type, "default");
  EXPECT_EQ(c.calibration.optimization, (std::vector<std::string>{"set_Softmax_input_int8", "set_Softmax_output_int8"}));
  EXPECT_EQ(c.compiler.jobs, 2);
  EXPECT_EQ(c.compiler.compile_mode, "latency");
  EXPECT_TRUE(c.compiler.debug);
  EXPECT_EQ(c.compiler.optimize_level, "O3");
  EXPECT_TRUE(has_warning(p, "cal_data_type"));
  EXPECT_FALSE(has_warning(p, "norm_type"));  // not deprecated for J5
  // `a,b` inside a flow mapping splits into `optimization: a` and a key `b`: b is taken as a flag.
  EXPECT_TRUE(has_warning(p, "set_Softmax_output_int8' taken as an optimization flag"));
}

TEST(Config, RealJ6FeaturemapMultiInput) {
  Parsed p = parse(
      "model_parameters: {onnx_model: 'bev.onnx', march: nash-e}\n"
      "input_parameters:\n  input_name: \"a;b;c;\"\n  input_type_rt: 'featuremap;featuremap;featuremap;'\n"
      "  input_type_train: 'featuremap;featuremap;featuremap;'\n"
      "calibration_parameters:\n  cal_data_dir: 'd1;d2;d3;'\n  optimization: set_all_nodes_int16\n"
      "compiler_parameters:\n  extra_params: {'input_no_padding': True, 'output_no_padding': True}\n");
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const CompileConfig& c = p.config;
  ASSERT_EQ(c.inputs.size(), 3u);
  EXPECT_EQ(c.inputs[0].name, "a");
  EXPECT_EQ(c.inputs[2].name, "c");
  EXPECT_EQ(c.inputs[1].cal_data_dir, "/cfg/base/d2");
  EXPECT_EQ(c.inputs[2].type_rt, "featuremap");
  EXPECT_EQ(c.inputs[2].layout_train, "");
  EXPECT_EQ(c.inputs[2].source, "ddr");
  EXPECT_EQ(c.inputs[0].norm_type, "no_preprocess");
  EXPECT_EQ(c.calibration.optimization, std::vector<std::string>{"set_all_nodes_int16"});
  EXPECT_EQ(c.compiler.extra_params_json, "{\"input_no_padding\":true,\"output_no_padding\":true}");
  EXPECT_EQ(c.compiler.optimize_level, "O2");
  EXPECT_EQ(c.compiler.jobs, 16);
}

TEST(Config, RealJ6PaddleOcrPerChannel) {
  Parsed p = parse(cfg("", "  mean_value: 123.675 116.28 103.53\n  scale_value: 0.01712475 0.017507 0.01742919\n", "",
                       "  optimize_level: 'O2'\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const InputParameters& in = p.config.inputs[0];
  EXPECT_EQ(in.mean, (std::vector<double>{123.675, 116.28, 103.53}));
  EXPECT_EQ(in.scale, (std::vector<double>{0.01712475, 0.017507, 0.01742919}));
  EXPECT_EQ(in.norm_type, "data_mean_and_scale");
  EXPECT_FALSE(in.norm_type_given);
}

TEST(Config, ObservedValues) {
  Parsed p = parse(cfg("  remove_node_type: 'Quantize;Dequantize;Transpose;Cast;Reshape'\n  debug_mode: 'dump_calibration_data'\n"
                       "  node_info: {\"/model.10/attn/Softmax\": {'ON':'BPU','InputType':'int16','OutputType':'int16'}}\n",
                       "", "  calibration_type: max\n  max_percentile: 0.999\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const CompileConfig& c = p.config;
  EXPECT_EQ(c.model.remove_node_type, (std::vector<std::string>{"Quantize", "Dequantize", "Transpose", "Cast", "Reshape"}));
  EXPECT_EQ(c.model.debug_mode, "dump_calibration_data");
  ASSERT_EQ(c.model.node_info.count("/model.10/attn/Softmax"), 1u);
  const NodeInfo& ni = c.model.node_info.at("/model.10/attn/Softmax");
  EXPECT_EQ(ni.on, "BPU");
  EXPECT_EQ(ni.input_type, "int16");
  EXPECT_EQ(ni.output_type, "int16");
  EXPECT_EQ(c.calibration.calibration_type, "max");
  EXPECT_EQ(*c.calibration.max_percentile, 0.999);
}

TEST(Config, UnknownKeyNamesLineAndClosest) {
  expect_error(cfg("  marhc: bayes\n"), {"c.yaml:4:", "unknown key 'marhc'", "model_parameters", "did you mean 'march'"});
  expect_error(cfg("", "  input_type_trian: rgb\n"), {"c.yaml:8:", "'input_type_trian'", "did you mean 'input_type_train'"});
  expect_error(cfg("", "", "", "  optimise_level: O2\n"), {"c.yaml:12:", "optimise_level", "did you mean 'optimize_level'"});
  expect_error(cfg("", "  march: bayes\n"), {"c.yaml:8:", "unknown key 'march'", "belongs to model_parameters"});
  expect_error(cfg() + "compilr_parameters:\n  jobs: 1\n", {"c.yaml:12:", "unknown group 'compilr_parameters'",
                                                            "did you mean 'compiler_parameters'"});
  expect_error(cfg("  zzzzzzzzzz: 1\n"), {"unknown key 'zzzzzzzzzz'"});
  expect_error(cfg("  march: bayes\n"), {"c.yaml:4:", "given twice"});
}

TEST(Config, UnknownCalibrationKeyPassesThroughWithWarning) {
  Parsed p = parse(cfg("", "", "  my_hmct_option: {a: 1}\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_TRUE(has_warning(p, "my_hmct_option"));
  ASSERT_EQ(p.config.calibration.extra.size(), 1u);
  EXPECT_EQ(p.config.calibration.extra[0].first, "my_hmct_option");
  EXPECT_EQ(p.config.calibration.extra[0].second, "{\"a\":1}");
}

TEST(Config, DeprecatedKeysWarn) {
  Parsed p = parse(cfg("  log_level: debug\n  set_node_data_type: 'Conv_0:int16'\n",
                       "  input_layout_rt: NHWC\n  norm_type: data_mean\n  mean_value: 128\n",
                       "  cal_data_type: uint8\n  preprocess_on: false\n  enable_int16: true\n  calibration_type: mix\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  for (const char* k : {"log_level", "set_node_data_type", "input_layout_rt", "norm_type", "cal_data_type", "preprocess_on",
                        "enable_int16", "'mix' is deprecated"})
    EXPECT_TRUE(has_warning(p, k)) << k;
  EXPECT_EQ(p.config.calibration.calibration_type, "default");
  EXPECT_EQ(p.config.model.node_info.at("Conv_0").output_type, "int16");
  EXPECT_EQ(p.config.inputs[0].mean, std::vector<double>(3, 128.0));
}

TEST(Config, MissingRequiredKeys) {
  expect_error("model_parameters: {march: nash-e}\ninput_parameters: {input_type_rt: rgb, input_type_train: rgb, "
               "input_layout_train: NCHW}\n", {"onnx_model is required"});
  expect_error("model_parameters: {onnx_model: m.onnx}\ninput_parameters: {input_type_rt: rgb, input_type_train: rgb, "
               "input_layout_train: NCHW}\n", {"march is required", "nash-e"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {input_type_train: rgb}\n",
               {"input_type_rt is required"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {input_type_rt: rgb}\n",
               {"input_type_train is required"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {input_type_rt: rgb, "
               "input_type_train: rgb}\n", {"input_layout_train is required"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\n", {"input_type_rt is required"});
  expect_error(cfg("  caffe_model: a.caffemodel\n"), {"caffe_model"});
}

TEST(Config, MissingGroupsAreAddedEmpty) {
  Parsed p = parse("model_parameters: {onnx_model: m.onnx, march: x86-avx2}\n"
                   "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n");
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.config.calibration.calibration_type, "skip");  // no cal_data_dir
  EXPECT_TRUE(has_warning(p, "no cal_data_dir"));
  EXPECT_EQ(p.config.compiler.compile_mode, "latency");
  EXPECT_EQ(p.config.compiler.core_num, 1);
  EXPECT_EQ(p.config.model.working_dir, "/cfg/base/model_output");
  EXPECT_EQ(p.config.model.output_model_file_prefix, "model");
}

TEST(Config, PerInputListCounts) {
  std::string two = "model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters:\n  input_name: 'a;b'\n"
                    "  input_type_train: 'rgb;featuremap'\n  input_layout_train: 'NHWC;None'\n";
  expect_error(two + "  input_type_rt: 'nv12'\n", {"input_type_rt", "1 given, 2 expected", "c.yaml:"});
  expect_error(two + "  input_type_rt: 'nv12;featuremap;rgb'\n", {"input_type_rt", "3 given, 2 expected"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters:\n"
               "  input_type_rt: 'rgb;rgb'\n", {"input_type_rt", "2 given, 1 expected", "input_name"});
  expect_error(two + "  input_type_rt: 'nv12;featuremap'\n  input_name: 'x'\n", {"given twice"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters:\n  input_name: 'a;a'\n",
               {"input 'a' listed twice"});
  Parsed p = parse(two + "  input_type_rt: 'nv12;featuremap;'\n  mean_value: '128;None'\n  input_shape: '1x224x224x3;1x10'\n"
                         "calibration_parameters: {cal_data_dir: 'da;db'}\n");
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  ASSERT_EQ(p.config.inputs.size(), 2u);
  EXPECT_EQ(p.config.inputs[0].mean, std::vector<double>(3, 128.0));
  EXPECT_TRUE(p.config.inputs[1].mean.empty());
  EXPECT_EQ(p.config.inputs[0].shape, (std::vector<int64_t>{1, 224, 224, 3}));
  EXPECT_EQ(p.config.inputs[1].shape, (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(p.config.inputs[1].layout_train, "");
  EXPECT_EQ(p.config.inputs[1].cal_data_dir, "/cfg/base/db");
}

TEST(Config, PerChannelValues) {
  Parsed p = parse(cfg("", "  mean_value: '123.675,116.28,103.53'\n  std_value: 58.395, 57.12, 57.375\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.config.inputs[0].mean, (std::vector<double>{123.675, 116.28, 103.53}));
  EXPECT_EQ(p.config.inputs[0].std, (std::vector<double>{58.395, 57.12, 57.375}));
  EXPECT_EQ(p.config.inputs[0].norm_type, "data_mean_and_std");
  expect_error(cfg("", "  mean_value: 1 2\n"), {"mean_value", "2 values given", "3 channel"});
  expect_error(cfg("", "  mean_value: 1 abc 2\n"), {"mean_value", "'abc' is not a number"});
  expect_error(cfg("", "  scale_value: 0.5\n  std_value: 2\n"), {"std_value", "cannot both be set"});
  expect_error(cfg("", "  std_value: 0\n"), {"std_value must be non-zero"});
  Parsed g = parse("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {input_type_rt: gray, "
                   "input_type_train: gray, input_layout_train: NCHW, input_shape: 1x1x32x32, scale_value: 0.5}\n");
  ASSERT_TRUE(g.status.ok()) << g.status.message();
  EXPECT_EQ(g.config.inputs[0].scale, std::vector<double>{0.5});
  EXPECT_EQ(g.config.inputs[0].source, "pyramid");
}

TEST(Config, InputChecks) {
  auto one = [](const std::string& kv) {
    return "model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {" + kv + "}\n";
  };
  expect_error(one("input_type_rt: nv12, input_type_train: gray, input_layout_train: NCHW"),
               {"input_type_rt", "'gray' cannot be fed as input_type_rt 'nv12'"});
  expect_error(one("input_type_rt: rgb, input_type_train: featuremap"), {"cannot be fed"});
  expect_error(one("input_type_rt: nv21, input_type_train: rgb, input_layout_train: NCHW"),
               {"'nv21' is not one of", "did you mean 'nv12'"});
  expect_error(one("input_type_rt: featuremap, input_type_train: featuremap, mean_value: 1"),
               {"mean_value", "featuremap"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCWH"), {"input_layout_train", "NCWH"});
  expect_error(one("input_type_rt: nv12, input_type_train: rgb, input_layout_train: NCHW, input_shape: 1x3x223x224"),
               {"nv12 type does not support odd size"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NHWC, input_shape: 1x3x224x224"),
               {"input_layout_train", "3 channel(s)", "has 224"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, input_shape: 1x3xax2"),
               {"input_shape", "not a shape"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, input_shape: 2x3x4x4, "
                   "input_batch: 4"), {"input_batch", "input_shape[0] == 1"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, input_batch: 500"),
               {"input_batch", "out of range"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, input_space_and_range: bt601_video"),
               {"bt601_video is only allowed with input_type_rt nv12"});
  expect_error(one("input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, norm_type: data_mean"),
               {"norm_type data_mean needs mean_value"});
  expect_error(one("input_name: x, input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW, separate_batch: true,"
                   " separate_name: x"), {"separate_name and separate_batch"});
}

TEST(Config, J5NormTypeDecidesWhichValuesApply) {
  Parsed p = parse("model_parameters: {onnx_model: m.onnx, march: bayes}\ninput_parameters: {input_type_rt: nv12, "
                   "input_type_train: bgr, input_layout_train: NCHW, norm_type: data_scale, mean_value: 128, scale_value: 2}\n");
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_TRUE(p.config.inputs[0].mean.empty());
  EXPECT_EQ(p.config.inputs[0].scale, std::vector<double>(3, 2.0));
  EXPECT_TRUE(has_warning(p, "ignored because norm_type is data_scale"));
}

TEST(Config, BoolsMustBeYamlBools) {
  expect_error(cfg("  layer_out_dump: 'True'\n"), {"layer_out_dump", "must be a yaml bool", "quoted"});
  expect_error(cfg("", "", "", "  debug: 2\n"), {"compiler_parameters.debug", "must be a yaml bool"});
  Parsed p = parse(cfg("  layer_out_dump: yes\n", "", "  per_channel: True\n", "  debug: off\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_TRUE(p.config.model.layer_out_dump);
  EXPECT_TRUE(p.config.calibration.per_channel);
  EXPECT_FALSE(p.config.compiler.debug);
}

TEST(Config, CalibrationChecks) {
  expect_error(cfg("", "", "  calibration_type: maxx\n"), {"calibration_type", "'maxx'", "did you mean 'max'"});
  expect_error(cfg("", "", "  max_percentile: 1.5\n"), {"max_percentile", "(0, 1]"});
  expect_error(cfg("", "", "  max_percentile: 0\n"), {"max_percentile"});
  expect_error(cfg("", "", "  optimization: set_model_output_int9\n"),
               {"unknown flag 'set_model_output_int9'", "did you mean 'set_model_output_int8'"});
  expect_error(cfg("", "", "  run_on_cpu: A\n  run_on_bpu: A\n"), {"'A' is in both run_on_cpu and run_on_bpu"});
  expect_error(cfg("", "", "  optimization: set_model_output_int8 set_model_output_int16\n"), {"cannot both be set"});
  Parsed w = parse(cfg("  node_info: {A: {ON: BPU}}\n", "", "  max_percentile: 0.9\n  run_on_cpu: A\n"));
  ASSERT_TRUE(w.status.ok()) << w.status.message();
  EXPECT_TRUE(has_warning(w, "only used by calibration_type max/percentile"));
  EXPECT_TRUE(has_warning(w, "node 'A': node_info sets ON BPU, which wins over run_on_cpu"));
  EXPECT_EQ(w.config.model.node_info.at("A").on, "BPU");
  Parsed p = parse(cfg("", "", "  max_percentile: 1\n  calibration_type: percentile\n  optimization: [run_fast]\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(*p.config.calibration.max_percentile, 1.0);
  EXPECT_EQ(p.config.calibration.optimization, std::vector<std::string>{"run_fast"});
}

TEST(Config, NodeInfoForms) {
  Parsed s = parse(cfg("  node_info: 'Conv_0:int16;Conv_1:int8;'\n"));
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.config.model.node_info.size(), 2u);
  EXPECT_EQ(s.config.model.node_info.at("Conv_1").output_type, "int8");
  Parsed d = parse(cfg("  node_info:\n    Conv_0: {ON: cpu, InputType0: int16, InputType1: int8}\n    X: {ON: BPU}\n", "",
                       "  run_on_cpu: 'X;Y'\n  run_on_bpu: Z\n"));
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  const auto& ni = d.config.model.node_info;
  EXPECT_EQ(ni.at("Conv_0").on, "CPU");
  EXPECT_EQ(ni.at("Conv_0").input_type_at.at(0), "int16");
  EXPECT_EQ(ni.at("Conv_0").input_type_at.at(1), "int8");
  EXPECT_EQ(ni.at("X").on, "BPU");  // node_info wins over run_on_cpu
  EXPECT_EQ(ni.at("Y").on, "CPU");
  EXPECT_EQ(ni.at("Z").on, "BPU");
  expect_error(cfg("  node_info: 'Conv_0:int32'\n"), {"node_info", "'Conv_0'", "int32", "int8 or int16"});
  expect_error(cfg("  node_info: 'Conv_0'\n"), {"node_info", "node_name:int8"});
  expect_error(cfg("  node_info: {A: {ON: GPU}}\n"), {"ON 'GPU' must be BPU or CPU"});
  expect_error(cfg("  node_info: {A: {OutputTyp: int8}}\n"), {"unknown field 'OutputTyp'", "did you mean 'OutputType'"});
}

TEST(Config, CompilerChecks) {
  expect_error(cfg("", "", "", "  optimize_level: O3\n"), {"optimize_level", "O3 is not available for J6"});
  expect_error(cfg("", "", "", "  optimize_level: O5\n"), {"optimize_level", "'O5'"});
  expect_error(cfg("", "", "", "  compile_mode: latncy\n"), {"compile_mode", "did you mean 'latency'"});
  expect_error(cfg("", "", "", "  compile_mode: balance\n"), {"balance_factor"});
  expect_error(cfg("", "", "", "  balance_factor: 101\n"), {"balance_factor", "out of range"});
  expect_error(cfg("", "", "", "  core_num: 2\n"), {"core_num", "at most 1"});
  expect_error(cfg("", "", "", "  max_time_per_fc: 500\n"), {"max_time_per_fc", "1000..4294967295"});
  expect_error(cfg("", "", "", "  advice: many\n"), {"advice", "expected an integer"});
  expect_error(cfg("", "", "", "  input_source: {data: ddr}\n"), {"nv12 cannot come from ddr"});
  expect_error(cfg("", "", "", "  input_source: {data: pyramd}\n"), {"'pyramd'", "did you mean 'pyramid'"});
  expect_error("model_parameters: {onnx_model: m.onnx, march: nash-e}\ninput_parameters: {input_name: 'a;b', "
               "input_type_rt: 'rgb;rgb', input_type_train: 'rgb;rgb', input_layout_train: 'NCHW;NCHW'}\n"
               "compiler_parameters: {input_source: {c: ddr}}\n", {"'c' is not an input"});
  expect_error(cfg("  march: nash-q\n").replace(cfg().find("  march: 'nash-e'\n"), 18, ""), {"unknown march 'nash-q'"});
  Parsed p = parse(cfg("", "", "", "  compile_mode: balance\n  balance_factor: 50\n  input_source: {data: resizer}\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(*p.config.compiler.balance_factor, 50);
  EXPECT_EQ(p.config.inputs[0].source, "resizer");  // the only input, unnamed
}

TEST(Config, MalformedYaml) {
  expect_error("model_parameters:\n  onnx_model: [a, b\n  march: x\n", {"c.yaml:", "yaml syntax error"});
  expect_error("model_parameters:\n  onnx_model: m.onnx\n  march: {a: 1\n", {"c.yaml:", "yaml syntax error"});
  Parsed p = parse("model_parameters:\n  onnx_model: m.onnx\n   march: x\n");
  ASSERT_FALSE(p.status.ok());
  EXPECT_NE(p.status.message().find("c.yaml:3:"), std::string::npos) << p.status.message();
  expect_error("", {"empty"});
  expect_error("- a\n- b\n", {"mapping of groups"});
  expect_error("model_parameters: 3\n", {"model_parameters must be a mapping"});
  expect_error(cfg("  output_nodes: {a: 1}\n"), {"output_nodes", "expected a ';'-separated list"});
}

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kaiwu_config_testXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(ConfigFiles, RelativePathsResolveAgainstYamlDir) {
  write("sub/qc.json", "{\"model_config\": {\"all_node_type\": \"int16\"}, \"op_config\": {\"softmax\": {\"qtype\": \"int8\"}}}");
  write("sub/c.yaml", "model_parameters: {onnx_model: '../models/m.onnx', march: nash-p}\n"
                      "input_parameters: {input_type_rt: rgb, input_type_train: bgr, input_layout_train: NCHW}\n"
                      "calibration_parameters: {cal_data_dir: ./cal, quant_config: qc.json}\n"
                      "custom_op: {custom_op_method: register, op_register_files: 'a.py;/abs/b.py', custom_op_dir: ./ops}\n");
  CompileConfig c;
  std::vector<std::string> w;
  Status s = load_config(dir_ + "/sub/c.yaml", &c, &w);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.model.onnx_model, dir_ + "/models/m.onnx");
  EXPECT_EQ(c.model.working_dir, dir_ + "/sub/model_output");
  EXPECT_EQ(c.inputs[0].cal_data_dir, dir_ + "/sub/cal");
  EXPECT_EQ(c.calibration.quant_config_path, dir_ + "/sub/qc.json");
  EXPECT_EQ(c.calibration.quant_config_json,
            "{\"model_config\":{\"all_node_type\":\"int16\"},\"op_config\":{\"softmax\":{\"qtype\":\"int8\"}}}");
  EXPECT_TRUE(c.custom_op.given);
  EXPECT_EQ(c.custom_op.custom_op_dir, dir_ + "/sub/ops");
  EXPECT_EQ(c.custom_op.op_register_files, (std::vector<std::string>{dir_ + "/sub/ops/a.py", "/abs/b.py"}));
  EXPECT_EQ(c.inputs[0].source, "ddr");

  // The round trip of a file-backed quant_config reads the same file again.
  CompileConfig back;
  s = parse_config(config_to_yaml(c), "gen.yaml", "/elsewhere", &back, nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(back == c);
}

TEST_F(ConfigFiles, FileErrorsNameThePath) {
  CompileConfig c;
  Status s = load_config(dir_ + "/nope.yaml", &c, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nope.yaml"), std::string::npos) << s.message();
  write("c.yaml", cfg("", "", "  quant_config: missing.json\n"));
  s = load_config(dir_ + "/c.yaml", &c, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("quant_config"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir_ + "/missing.json"), std::string::npos) << s.message();
  write("bad.json", "{\"a\": [1, 2}");
  write("c2.yaml", cfg("", "", "  quant_config: bad.json\n"));
  s = load_config(dir_ + "/c2.yaml", &c, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("invalid JSON"), std::string::npos) << s.message();
}

TEST(Config, QuantConfigInline) {
  Parsed p = parse(cfg("", "", "  quant_config: {model_config: {all_node_type: int16}, activation: {per_channel: true, "
                               "max_percentile: 0.9999}}\n"));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.config.calibration.quant_config_json,
            "{\"model_config\":{\"all_node_type\":\"int16\"},\"activation\":{\"per_channel\":true,\"max_percentile\":0.9999}}");
  EXPECT_EQ(p.config.calibration.quant_config_path, "");
  Parsed q = parse(cfg("", "", "  quant_config: '{\"op_config\": {\"softmax\": {\"qtype\": \"int8\"}}}'\n"));
  ASSERT_TRUE(q.status.ok()) << q.status.message();
  EXPECT_EQ(q.config.calibration.quant_config_json, "{\"op_config\":{\"softmax\":{\"qtype\":\"int8\"}}}");
}

TEST(Config, RoundTrip) {
  std::vector<std::string> texts = {
      cfg(),
      cfg("  layer_out_dump: true\n  output_nodes: 'o1;o2'\n  remove_node_type: 'Quantize;Dequantize'\n"
          "  remove_node_name: n1\n  node_info: {'a b': {ON: CPU, InputType: int16, InputType2: int8, OutputType: int16}}\n"
          "  debug_mode: dump_calibration_data\n  enable_vpu: true\n  output_model_file_prefix: \"it's\"\n",
          "  input_name: data\n  input_shape: 1x3x224x224\n  mean_value: 0.1 0.2 0.30000000000000004\n  std_value: 3\n"
          "  input_batch: 8\n",
          "  calibration_type: max\n  max_percentile: 0.99995\n  per_channel: true\n  run_on_cpu: 'x;y'\n  run_on_bpu: z\n"
          "  optimization: set_model_output_int8,run_fast\n  quant_config: {a: [1, 'two', 3.5, null]}\n  other: 7\n"
          "  cal_data_type: float32\n",
          "  compile_mode: balance\n  balance_factor: 30\n  optimize_level: O1\n  debug: false\n  max_time_per_fc: 2000\n"
          "  input_source: {data: pyramid}\n  advice: 10\n  ability_entry: e\n  hbdk3_compatible_mode: true\n"
          "  extra_params: {input_no_padding: true}\n  cache_mode: enable\n  cache_path: /c\n") +
          "custom_op: {op_register_files: x.py}\n",
      "model_parameters: {onnx_model: m.onnx, march: bayes}\ninput_parameters: {input_name: 'a;b', input_type_rt: "
      "'gray;featuremap', input_type_train: 'gray;featuremap', input_layout_train: 'NHWC;None', norm_type: "
      "'data_scale;no_preprocess', scale_value: '0.5;None', input_space_and_range: 'regular;regular'}\n",
  };
  for (const auto& t : texts) {
    Parsed p = parse(t);
    ASSERT_TRUE(p.status.ok()) << p.status.message() << "\n" << t;
    std::string y = config_to_yaml(p.config);
    CompileConfig back;
    Status s = parse_config(y, "gen.yaml", "/other/dir", &back, nullptr);
    ASSERT_TRUE(s.ok()) << s.message() << "\n" << y;
    EXPECT_TRUE(back == p.config) << y;
    EXPECT_EQ(config_to_yaml(back), y);
  }
}

TEST(Config, Marches) {
  std::string notice;
  EXPECT_EQ(resolve_march("bayes-e", "x86-avx512vnni", &notice), "x86-avx512vnni");
  EXPECT_NE(notice.find("Horizon"), std::string::npos);
  EXPECT_EQ(resolve_march("nash-m", "x86-avx2", &notice), "x86-avx2");
  EXPECT_EQ(resolve_march("x86-avx2", "x86-avx512vnni", &notice), "x86-avx2");
  EXPECT_EQ(notice, "");
  EXPECT_EQ(resolve_march("x86-avx512vnni", "x86-avx2", &notice), "x86-avx512vnni");
  EXPECT_NE(notice.find("lacks"), std::string::npos);
  EXPECT_EQ(resolve_march("nash_e", "generic", &notice), "");
  EXPECT_NE(notice.find("did you mean 'nash-e'"), std::string::npos);
  EXPECT_EQ(march_family("bernoulli2"), MarchFamily::kJ5);
  EXPECT_EQ(march_family("nash-starry-p"), MarchFamily::kJ6);
  EXPECT_EQ(march_family("generic"), MarchFamily::kKaiwu);
  EXPECT_EQ(known_marches().size(), 14u);
  expect_error(cfg("", "", "", "").replace(cfg().find("nash-e"), 6, "bayes-f"), {"march", "did you mean 'bayes-e'"});
}

}  // namespace
}  // namespace kaiwu::config

namespace kaiwu::config {
namespace {

TEST(Config, BindModelInputs) {
  auto parsed = [](const std::string& text) {
    CompileConfig c;
    Status s = parse_config(text, "c.yaml", "/b", &c, nullptr);
    EXPECT_TRUE(s.ok()) << s.message();
    return c;
  };
  std::string single = "model_parameters: {onnx_model: m.onnx, march: nash-e}\n"
                       "input_parameters: {input_type_rt: nv12, input_type_train: rgb, input_layout_train: NCHW}\n";
  CompileConfig c = parsed(single);
  ASSERT_TRUE(bind_model_inputs({{"images", {1, 3, 640, 640}}}, &c).ok());
  EXPECT_EQ(c.inputs[0].name, "images");
  EXPECT_EQ(c.inputs[0].shape, (std::vector<int64_t>{1, 3, 640, 640}));

  auto fails = [&](const std::string& text, const std::vector<ModelInput>& mi, const std::vector<std::string>& frags) {
    CompileConfig cc = parsed(text);
    Status s = bind_model_inputs(mi, &cc);
    ASSERT_FALSE(s.ok());
    for (const auto& f : frags) EXPECT_NE(s.message().find(f), std::string::npos) << f << " in " << s.message();
  };
  fails(single, {{"a", {1, 3, 8, 8}}, {"b", {1, 4}}}, {"c.yaml", "input_name", "2 inputs (a, b)"});
  fails(single, {{"images", {1, 3, -1, -1}}}, {"input_shape is required", "1x3x?x?"});
  fails(single, {{"images", {1, 3, 641, 640}}}, {"nv12 type does not support odd size"});
  fails(single, {{"images", {1, 1, 64, 64}}}, {"3 channel(s)", "has 1"});
  std::string named = "model_parameters: {onnx_model: m.onnx, march: nash-e}\n"
                      "input_parameters: {input_name: imgs, input_shape: 1x3x320x320, input_type_rt: nv12, "
                      "input_type_train: rgb, input_layout_train: NCHW}\n";
  fails(named, {{"images", {1, 3, 320, 320}}}, {"'imgs' is not an input of the model", "did you mean 'images'"});
  fails(named, {{"imgs", {1, 3, 224, 224}}}, {"does not match the model's 1x3x224x224 at dim 2"});
  fails(named, {{"imgs", {1, 3, 224}}}, {"has 4 dims"});
  fails(named, {{"imgs", {1, 3, 320, 320}}, {"extra", {1}}}, {"model input 'extra' is not listed"});
  CompileConfig d = parsed(named);
  ASSERT_TRUE(bind_model_inputs({{"imgs", {1, 3, -1, 0}}}, &d).ok());
  EXPECT_EQ(d.inputs[0].shape, (std::vector<int64_t>{1, 3, 320, 320}));
}

}  // namespace
}  // namespace kaiwu::config
