// Compile user experience: calibrated (activations-only) vs quantized stage models and their cosines, cosines over
// every evaluation sample, progress output, check mode (-m), config-gen round trip, calibration_type load.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler/check.h"
#include "compiler/eval.h"
#include "compiler/load_qparams.h"
#include "compiler/progress.h"
#include "config/compile_config.h"
#include "core/npy.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "kaiwu/compile.h"
#include "model_builder.h"
#include "test_util.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;

struct Dir {
  std::string path;
  explicit Dir(const std::string& name) {
    path = ::testing::TempDir() + "/kaiwu_ux_" + name;
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
};

std::string fmnist() { return test::source_dir() + "/examples/fmnist/fmnist_small.onnx"; }

std::string read_text(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

CompileOptions quiet() {
  CompileOptions o;
  o.echo = false;
  o.progress = false;
  return o;
}

// A featuremap yaml for the example model with 4 random .npy calibration samples in <dir>/calib.
std::string write_config(const Dir& d, const std::string& calib_lines) {
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  std::string y = "model_parameters:\n  onnx_model: '" + fmnist() + "'\n  march: x86-avx512vnni\n"
                  "  working_dir: out\n  output_model_file_prefix: fm\n"
                  "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n"
                  "  input_type_train: featuremap\n  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
                  "calibration_parameters:\n  cal_data_dir: calib\n" + calib_lines +
                  "compiler_parameters:\n  optimize_level: O2\n";
  std::string p = d.path + "/config.yaml";
  std::ofstream(p) << y;
  return p;
}

// Input tensor name -> (scale, zero point) of every QuantizeLinear of a model.
std::map<std::string, std::pair<float, int>> quantize_params(const ir::Model& m) {
  std::map<std::string, std::pair<float, int>> r;
  for (const auto& n : m.graph.nodes) {
    if (n.op_type != "QuantizeLinear") continue;
    const Tensor& s = m.graph.initializers.at(n.inputs[1]);
    const Tensor& z = m.graph.initializers.at(n.inputs[2]);
    r[n.inputs[0]] = {s.data<float>()[0], static_cast<int>(z.get_f64(0))};
  }
  return r;
}

TEST(CompileUx, CalibratedModelQuantizesActivationsOnly) {
  Dir d("calibrated");
  CompileResult r;
  Status st = compile_model(write_config(d, "  calibration_type: max\n"), quiet(), &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ir::Model cal, ptq;
  ASSERT_TRUE(frontend::load_onnx(d.path + "/out/fm_calibrated_model.onnx", &cal).ok());
  ASSERT_TRUE(frontend::load_onnx(d.path + "/out/fm_ptq_model.onnx", &ptq).ok());
  auto count = [](const ir::Model& m, const std::string& op, bool reads_initializer) {
    int c = 0;
    for (const auto& n : m.graph.nodes)
      c += n.op_type == op && m.graph.is_initializer(n.inputs[0]) == reads_initializer;
    return c;
  };
  // Calibrated: Q/DQ pairs on activations, no DequantizeLinear of a constant, float Conv/Gemm weights.
  EXPECT_GT(count(cal, "QuantizeLinear", false), 5);
  EXPECT_EQ(count(cal, "DequantizeLinear", true), 0);
  int float_weights = 0;
  for (const auto& n : cal.graph.nodes)
    if (n.op_type == "Conv" || n.op_type == "Gemm") {
      ASSERT_TRUE(cal.graph.is_initializer(n.inputs[1])) << n.name;
      EXPECT_EQ(cal.graph.initializers.at(n.inputs[1]).dtype(), DType::kF32) << n.name;
      if (n.inputs.size() > 2) EXPECT_EQ(cal.graph.initializers.at(n.inputs[2]).dtype(), DType::kF32) << n.name;
      ++float_weights;
    }
  EXPECT_EQ(float_weights, 5);
  // PTQ: int8 weights and int32 biases behind DequantizeLinear; same activation qparams as the calibrated model.
  EXPECT_GE(count(ptq, "DequantizeLinear", true), 10);
  EXPECT_EQ(quantize_params(cal), quantize_params(ptq));
  // Both cosine columns are filled (node and output tables).
  nlohmann::json j = nlohmann::json::parse(read_text(d.path + "/out/fm_quant_info.json"));
  ASSERT_EQ(j["outputs"].size(), 1u);
  double qc = std::stod(j["outputs"][0]["quantized_cosine"].get<std::string>());
  double cc = std::stod(j["outputs"][0]["calibrated_cosine"].get<std::string>());
  EXPECT_GT(qc, 0.99);
  EXPECT_GT(cc, 0.99);
  EXPECT_NEAR(qc, r.output_cosine, 1e-6);
  for (const auto& n : j["nodes"]) EXPECT_NE(n["quantized_cosine"].get<std::string>(), "--") << n["node"];
  std::string log = read_text(d.path + "/out/kaiwu_compile.log");
  EXPECT_NE(log.find("concatenated over 4 evaluation samples"), std::string::npos);
  EXPECT_EQ(j["cosine"]["samples"], 4);
  EXPECT_EQ(j["cosine"]["quantized_model"], "fm_quantized_model.onnx");
  EXPECT_NE(log.find("elapsed: calibration statistics"), std::string::npos);
  EXPECT_NE(log.find("elapsed: cosine evaluation"), std::string::npos);
}

// Cosines accumulate over every evaluation sample: two models that agree on sample 0 and disagree on sample 1.
TEST(CompileUx, CosineCoversEverySample) {
  Dir d("cosine");
  test::ModelBuilder a, b;
  for (auto* mb : {&a, &b}) {
    mb->input("x", {1, 4});
    mb->output("y", {1, 4});
  }
  a.node("Identity", {"x"}, {"y"});
  b.node("Relu", {"x"}, {"y"});  // equal to the identity on non-negative inputs only
  fs::create_directories(d.path + "/x");
  ASSERT_TRUE(write_npy(d.path + "/x/0.npy", Tensor::from_vector<float>({1, 2, 3, 4}, {1, 4})).ok());
  ASSERT_TRUE(write_npy(d.path + "/x/1.npy", Tensor::from_vector<float>({1, -2, 3, -4}, {1, 4})).ok());
  calib::CalibrationDataset data;
  ASSERT_TRUE(calib::CalibrationDataset::open({{"x", DType::kF32, {1, 4}}}, {d.path + "/x"}, "", &data).ok());
  std::unique_ptr<runtime::GraphExecutor> ea, eb;
  ASSERT_TRUE(runtime::GraphExecutor::create(a.m, SessionOptions(), &ea).ok());
  ASSERT_TRUE(runtime::GraphExecutor::create(b.m, SessionOptions(), &eb).ok());
  std::vector<compiler::Cosines> first, all;
  ASSERT_TRUE(compiler::compare_models(*ea, {{eb.get(), {"y"}, "relu"}}, data, {0}, &first).ok());
  EXPECT_NEAR(first[0]["y"].value(), 1.0, 1e-12);
  size_t calls = 0;
  ASSERT_TRUE(compiler::compare_models(*ea, {{eb.get(), {"y"}, "relu"}}, data, {0, 1}, &all,
                                       [&](size_t done, size_t total) { calls += done <= total; })
                  .ok());
  // Concatenation: dot = 30 + 10, |a|^2 = 60, |b|^2 = 30 + 10.
  EXPECT_NEAR(all[0]["y"].value(), 40.0 / std::sqrt(60.0 * 40.0), 1e-12);
  EXPECT_EQ(all[0]["y"].samples, 2);
  EXPECT_EQ(calls, 2u);
}

TEST(CompileUx, ProgressOnlyOnATerminal) {
  for (bool tty : {false, true}) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
      compiler::Progress p("calibration", true, tty, f);
      for (size_t i = 1; i <= 3; ++i) p.update(i, 3);
    }
    std::fflush(f);
    std::rewind(f);
    std::string text;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    if (!tty) {
      EXPECT_EQ(text, "");
    } else {
      EXPECT_NE(text.find("\rcalibration: 3/3 samples"), std::string::npos) << text;
      EXPECT_EQ(text.back(), '\n');
    }
  }
  // Disabled: nothing even on a terminal.
  std::FILE* f = std::tmpfile();
  { compiler::Progress p("x", false, true, f); p.update(1, 1); }
  EXPECT_EQ(std::ftell(f), 0);
  std::fclose(f);
}

TEST(CompileUx, CheckModeRows) {
  compiler::CheckOptions opt;
  opt.model = fmnist();
  opt.echo = false;
  compiler::CheckResult r;
  Status st = compiler::check_model(opt, &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(r.rows.size(), 11u);
  EXPECT_EQ(r.nodes_int8, 11);
  EXPECT_EQ(r.rows[0].type, "Conv+Relu");
  EXPECT_EQ(r.rows[0].dtype, "int8");
  EXPECT_FALSE(r.rows[0].why.empty());
  EXPECT_NE(r.report.find("| Output Data Type | Reason"), std::string::npos) << r.report;

  // A node without an integer rule stays float, with the reason; an int16 request is not possible here.
  Dir d("check");
  test::ModelBuilder mb;
  mb.input("x", {1, 2, 4, 4});
  mb.output("y");
  mb.constant("w", test::random_f32({2, 2, 1, 1}, 3));
  mb.node("conv", "Conv", {"x", "w"}, {"c"});
  mb.node("max", "Max", {"c", "c"}, {"y"});
  ASSERT_TRUE(frontend::save_onnx(mb.m, d.path + "/m.onnx").ok());
  opt.model = d.path + "/m.onnx";
  st = compiler::check_model(opt, &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].dtype, "int8");
  EXPECT_EQ(r.rows[1].node, "max");
  EXPECT_EQ(r.rows[1].dtype, "float");
  EXPECT_NE(r.rows[1].why.find("no int8 rule"), std::string::npos) << r.rows[1].why;
  EXPECT_EQ(r.nodes_float, 1);
  // Nothing written next to the model.
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 1);
}

TEST(CompileUx, CheckModeNeedsShapesOfDynamicDims) {
  Dir d("dyn");
  test::ModelBuilder mb;
  ir::ValueInfo v;
  v.name = "x";
  v.dtype = DType::kF32;
  v.has_shape = true;
  v.dims = {ir::Dim::fixed(1), ir::Dim::fixed(3), ir::Dim::symbol("h"), ir::Dim::symbol("w")};
  mb.m.graph.inputs.push_back(v);
  mb.output("y");
  mb.node("Relu", {"x"}, {"y"});
  ASSERT_TRUE(frontend::save_onnx(mb.m, d.path + "/m.onnx").ok());
  compiler::CheckOptions opt;
  opt.model = d.path + "/m.onnx";
  opt.echo = false;
  compiler::CheckResult r;
  Status st = compiler::check_model(opt, &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--input-shape x="), std::string::npos) << st.message();
  opt.input_shapes["x"] = {1, 3, 8, 8};
  st = compiler::check_model(opt, &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(r.rows.size(), 1u);
}

TEST(CompileUx, CliCompileNeedsExactlyOneOfConfigAndModel) {
  const std::string bin = test::build_dir() + "/bin/kaiwu";
  ASSERT_TRUE(test::file_exists(bin)) << bin << " is not built";
  Dir d("cli");
  std::string out;
  EXPECT_EQ(test::run_command(bin + " compile", &out), 2);
  EXPECT_NE(out.find("give -c config.yaml (convert) or -m model.onnx (check mode)"), std::string::npos) << out;
  std::ofstream(d.path + "/c.yaml") << "model_parameters: {}\n";
  EXPECT_EQ(test::run_command(bin + " compile -c " + d.path + "/c.yaml -m " + fmnist(), &out), 2);
  EXPECT_NE(out.find("not both"), std::string::npos) << out;
  // Check mode: the table on stdout, the optional report, nothing else written.
  EXPECT_EQ(test::run_command("cd " + d.path + " && " + bin + " compile -m " + fmnist() + " -o report.txt", &out), 0)
      << out;
  EXPECT_NE(out.find("/res/Add"), std::string::npos) << out;
  EXPECT_NE(read_text(d.path + "/report.txt").find("Output Data Type"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 2);  // c.yaml, report.txt
}

TEST(CompileUx, ConfigGenRoundTripAndCompile) {
  for (bool full : {false, true}) {
    Dir d(full ? "cfgfull" : "cfg");
    compiler::ConfigGenOptions opt;
    opt.model = fmnist();
    opt.yaml_path = d.path + "/gen.yaml";
    opt.full = full;
    std::string yaml;
    ASSERT_TRUE(compiler::generate_config(opt, &yaml, nullptr).ok());
    std::ofstream(opt.yaml_path) << yaml;
    config::CompileConfig c;
    std::vector<std::string> warnings;
    Status st = config::load_config(opt.yaml_path, &c, &warnings);
    ASSERT_TRUE(st.ok()) << st.to_string() << "\n" << yaml;
    EXPECT_EQ(c.model.onnx_model, fs::path(fmnist()).lexically_normal().string());
    EXPECT_EQ(c.model.working_dir, fs::path(d.path + "/model_output").lexically_normal().string());
    EXPECT_EQ(c.model.output_model_file_prefix, "fmnist_small");
    ASSERT_EQ(c.inputs.size(), 1u);
    EXPECT_EQ(c.inputs[0].name, "input");
    EXPECT_EQ(c.inputs[0].shape, (std::vector<int64_t>{1, 1, 28, 28}));
    EXPECT_EQ(c.inputs[0].type_train, "gray");
    EXPECT_EQ(c.inputs[0].layout_train, "NCHW");
    for (const auto& w : warnings) EXPECT_EQ(w.find("norm_type"), std::string::npos) << w;
    // No cal_data_dir: random calibration with the warning (compile works); then with a folder.
    CompileResult r;
    st = compile_model(opt.yaml_path, quiet(), &r);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(r.calibration_method, "max");  // skip -> max over random data
    if (full) continue;
    fs::create_directories(d.path + "/calibration_data/input");
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(write_npy(d.path + "/calibration_data/input/" + std::to_string(i) + ".npy",
                            test::random_f32({1, 1, 28, 28}, i)).ok());
    size_t at = yaml.find("# cal_data_dir:");
    ASSERT_NE(at, std::string::npos);
    yaml.erase(at, 2);
    yaml.replace(yaml.find("calibration_type: 'default'"), 27, "calibration_type: 'max'");
    std::ofstream(opt.yaml_path) << yaml;
    st = compile_model(opt.yaml_path, quiet(), &r);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_TRUE(fs::exists(d.path + "/model_output/fmnist_small_ptq_model.onnx"));
  }
}

TEST(CompileUx, LoadCalibrationReproducesScales) {
  Dir d("load");
  CompileResult r;
  ASSERT_TRUE(compile_model(write_config(d, "  calibration_type: max\n"), quiet(), &r).ok());
  fs::rename(d.path + "/out/fm_ptq_model.onnx", d.path + "/given_qdq.onnx");
  ir::Model given;
  ASSERT_TRUE(frontend::load_onnx(d.path + "/given_qdq.onnx", &given).ok());
  Status st = compile_model(write_config(d, "  calibration_type: load\n  load_model: given_qdq.onnx\n"), quiet(), &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(r.calibration_method, "load");
  ir::Model loaded;
  ASSERT_TRUE(frontend::load_onnx(d.path + "/out/fm_ptq_model.onnx", &loaded).ok());
  auto a = quantize_params(given), b = quantize_params(loaded);
  EXPECT_GT(a.size(), 5u);
  EXPECT_EQ(a, b);

  // A QDQ model that lacks the input's QuantizeLinear: the error names the tensor.
  for (auto& n : given.graph.nodes)
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == "input") n.inputs[0] = "renamed_input";
  given.graph.inputs[0].name = "renamed_input";
  ASSERT_TRUE(frontend::save_onnx(given, d.path + "/given_qdq.onnx").ok());
  fs::remove_all(d.path + "/out");
  st = compile_model(write_config(d, "  calibration_type: load\n  load_model: given_qdq.onnx\n"), quiet(), &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'input'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("given_qdq.onnx"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(d.path + "/out/fm_ptq_model.onnx"));
}

// Quantizers that fuse Add+Relu quantize only the Relu output: the Add output takes the Relu's qparams.
TEST(CompileUx, LoadCompletesThroughRelu) {
  test::ModelBuilder mb;
  mb.input("x", {1, 4});
  mb.output("y");
  mb.output("z");
  mb.node("add", "Add", {"x", "x"}, {"a"});
  mb.node("relu", "Relu", {"a"}, {"y"});
  mb.node("neg", "Neg", {"x"}, {"n"});  // read by Relu and Sigmoid: no single source, not filled
  mb.node("relu2", "Relu", {"n"}, {"r2"});
  mb.node("sig", "Sigmoid", {"n"}, {"s"});
  mb.node("sum", "Add", {"r2", "s"}, {"z"});
  compiler::LoadedQParams l;
  l.qparams["y"] = {0.5f, -128, false};
  l.ranges["y"] = {0.f, 127.5f};
  l.qparams["r2"] = {0.25f, -128, false};
  auto filled = compiler::complete_through_relu(mb.m.graph, &l);
  ASSERT_EQ(filled.size(), 1u);
  EXPECT_EQ(filled[0], "a <- y");
  EXPECT_EQ(l.qparams["a"].scale, 0.5f);
  EXPECT_EQ(l.qparams["a"].zero_point, -128);
  EXPECT_FALSE(l.qparams.count("n"));
}

TEST(CompileUx, AsymmetricActivations) {
  // Symmetric by default: zero points 0 (or -128 for never-negative tensors); asymmetric: others appear.
  for (const char* line : {"", "  asymmetric: true\n", "  quant_config: {\"activation\": {\"asymmetric\": true}}\n"}) {
    Dir d("asym");
    CompileResult r;
    Status st = compile_model(write_config(d, std::string("  calibration_type: max\n") + line), quiet(), &r);
    ASSERT_TRUE(st.ok()) << st.to_string();
    ir::Model m;
    ASSERT_TRUE(frontend::load_onnx(d.path + "/out/fm_ptq_model.onnx", &m).ok());
    int other = 0;
    for (const auto& [name, q] : quantize_params(m)) other += q.second != 0 && q.second != -128;
    if (*line) EXPECT_GT(other, 0) << line;
    else EXPECT_EQ(other, 0);
    EXPECT_GT(r.output_cosine, 0.99);
  }
}

}  // namespace
}  // namespace kaiwu
