// kaiwu::compile_model on the Fashion-MNIST CNN with random calibration data, and its failure modes: every bad
// input gives an error naming the file/key/folder and leaves nothing half-written in working_dir.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/npy.h"
#include "kaiwu/compile.h"
#include "kaiwu/session.h"
#include "test_util.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;

struct Dir {
  std::string path;
  explicit Dir(const std::string& name) {
    path = ::testing::TempDir() + "/kaiwu_compile_" + name;
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
};

std::string yaml(const std::string& work, const std::string& calib_line, const std::string& extra = "") {
  return "model_parameters:\n  onnx_model: '" + test::shared_dir() + "/models/fmnist/fmnist_cnn.onnx'\n"
         "  march: x86-avx512vnni\n  working_dir: '" + work + "'\n  output_model_file_prefix: fm\n" + extra +
         "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n  input_type_train: featuremap\n"
         "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
         "calibration_parameters:\n" + calib_line + "  calibration_type: max\n"
         "compiler_parameters:\n  optimize_level: O2\n";
}

std::string write_yaml(const Dir& d, const std::string& text) {
  std::string p = d.path + "/config.yaml";
  std::ofstream(p) << text;
  return p;
}

size_t files_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() || e.is_directory();
  return n;
}

CompileOptions quiet() {
  CompileOptions o;
  o.echo = false;
  o.progress = false;
  return o;
}

TEST(Compile, WritesEveryStageArtifact) {
  Dir d("ok");
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n")), quiet(), &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  for (const char* f : {"fm_original_float_model.onnx", "fm_optimized_float_model.onnx", "fm_calibrated_model.onnx",
                        "fm_ptq_model.onnx", "fm_quantized_model.onnx", "fm.kwm", "fm_calibration.json",
                        "fm_quant_info.json", "fm_node_info.csv", "kaiwu_compile.log", "fm.json", "fm.html"})
    EXPECT_TRUE(fs::exists(d.path + "/out/" + f)) << f;
  EXPECT_EQ(files_in(d.path + "/out"), 12u);  // no staging folder left
  EXPECT_GT(r.output_cosine, 0.99);
  EXPECT_EQ(r.nodes_float, 0);
  EXPECT_EQ(r.calibration_method, "max");
  std::ifstream log(d.path + "/out/kaiwu_compile.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  for (const char* col : {"NodeType", "| ON ", "Threshold", "Calibrated Cosine", "Quantized Cosine", "Output Data Type",
                          "TensorName", "Conv+Relu", "Select max method."})
    EXPECT_NE(text.find(col), std::string::npos) << col;
}

TEST(Compile, SameInputsGiveIdenticalArtifacts) {
  Dir d("det");
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  CompileResult r;
  ASSERT_TRUE(compile_model(write_yaml(d, yaml(d.path + "/a", "  cal_data_dir: calib\n")), quiet(), &r).ok());
  ASSERT_TRUE(compile_model(write_yaml(d, yaml(d.path + "/b", "  cal_data_dir: calib\n")), quiet(), &r).ok());
  auto read = [](const std::string& p) {
    std::ifstream a(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(a)), {});
  };
  for (const char* f : {"fm_ptq_model.onnx", "fm_calibrated_model.onnx", "fm_quantized_model.onnx",
                        "fm_calibration.json", "fm_quant_info.json", "fm_node_info.csv", "fm.json", "fm.html"}) {
    std::string sa = read(d.path + "/a/" + f), sb = read(d.path + "/b/" + f);
    EXPECT_FALSE(sa.empty());
    EXPECT_EQ(sa, sb) << f;
  }
  // The deployable model records the yaml (with its working_dir): same run again into the same folder.
  std::string kwm = read(d.path + "/a/fm.kwm");
  ASSERT_TRUE(compile_model(write_yaml(d, yaml(d.path + "/a", "  cal_data_dir: calib\n")), quiet(), &r).ok());
  EXPECT_FALSE(kwm.empty());
  EXPECT_EQ(kwm, read(d.path + "/a/fm.kwm"));
}

TEST(Compile, DeployableAndFixedPointModelsAreBitIdentical) {
  Dir d("bits");
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  CompileResult r;
  ASSERT_TRUE(compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n")), quiet(), &r).ok());
  std::unique_ptr<Session> fixed, kwm;
  ASSERT_TRUE(Session::open(d.path + "/out/fm_quantized_model.onnx", SessionOptions(), &fixed).ok());
  ASSERT_TRUE(Session::open(d.path + "/out/fm.kwm", SessionOptions(), &kwm).ok());
  for (unsigned seed = 40; seed < 45; ++seed) {
    Tensor x = test::random_f32({1, 1, 28, 28}, seed);
    std::vector<Tensor> a, b;
    ASSERT_TRUE(fixed->run({{fixed->inputs()[0].name, x}}, {}, &a).ok());
    ASSERT_TRUE(kwm->run({{kwm->inputs()[0].name, x}}, {}, &b).ok());
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].nbytes(), b[i].nbytes());
      EXPECT_EQ(std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes()), 0) << "output " << i << " seed " << seed;
    }
  }
}

TEST(Compile, MissingCalibrationFolderLeavesNothing) {
  Dir d("nocal");
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: does_not_exist\n")), quiet(), &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does_not_exist"), std::string::npos) << st.message();
  EXPECT_EQ(files_in(d.path + "/out"), 0u);
}

TEST(Compile, UnknownKeyNamesKeyAndLine) {
  Dir d("badkey");
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: c\n", "  workng_dir: x\n")), quiet(), &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("workng_dir"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("working_dir"), std::string::npos) << st.message();
}

TEST(Compile, UnwritableWorkingDir) {
  Dir d("unwritable");
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml("/proc/kaiwu_cannot_write_here", "  cal_data_dir: c\n")), quiet(), &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/proc/kaiwu_cannot_write_here"), std::string::npos) << st.message();
}

TEST(Compile, NanInCalibrationDataIsNamed) {
  Dir d("nan");
  fs::create_directories(d.path + "/calib");
  Tensor t = test::random_f32({1, 1, 28, 28}, 1);
  t.data<float>()[5] = std::nanf("");
  ASSERT_TRUE(write_npy(d.path + "/calib/0.npy", t).ok());
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n")), quiet(), &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("0.npy"), std::string::npos) << st.message();
  EXPECT_EQ(files_in(d.path + "/out"), 0u);
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// Calibration data of all zeros: every activation range is [0, 0]. Scales stay finite and positive (no division by
// zero, no Inf), and every artifact, the deployable model included, runs and gives finite outputs.
TEST(Compile, AllZeroActivationsGiveFiniteScales) {
  Dir d("zeros");
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", Tensor::zeros(DType::kF32, {1, 1, 28, 28})).ok());
  CompileResult r;
  Status st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n")), quiet(), &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  for (const char* f : {"fm_ptq_model.onnx", "fm_quantized_model.onnx", "fm.kwm"}) {
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::open(d.path + "/out/" + f, SessionOptions(), &s).ok()) << f;
    std::vector<Tensor> out;
    ASSERT_TRUE(s->run({{s->inputs()[0].name, test::random_f32({1, 1, 28, 28}, 3)}}, {}, &out).ok()) << f;
    for (int64_t i = 0; i < out[0].numel(); ++i) EXPECT_TRUE(std::isfinite(out[0].data<float>()[i])) << f;
  }
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

CompileResult compile_with(const Dir& d, const std::string& calib_extra, Status* st) {
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  CompileResult r;
  *st = compile_model(write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n" + calib_extra)), quiet(), &r);
  return r;
}

// quant_config (J6 HMCT form): model_config.all_node_type, op_config.<op>.qtype, node_config.<node>.qtype.
TEST(Compile, QuantConfigSelectsPrecisions) {
  Status st;
  CompileResult all16 = compile_with(Dir("qc_all"), "  quant_config: {\"model_config\": {\"all_node_type\": \"int16\"}}\n", &st);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_GT(all16.nodes_int16, 0);
  EXPECT_EQ(all16.nodes_int8, 0);
  CompileResult conv16 = compile_with(Dir("qc_op"), "  quant_config: {\"op_config\": {\"Conv\": {\"qtype\": \"int16\"}}}\n", &st);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_GT(conv16.nodes_int16, 0);
  EXPECT_GT(conv16.nodes_int8, 0);
  CompileResult fl = compile_with(Dir("qc_node"), "  quant_config: {\"node_config\": {\"/fc/Gemm\": {\"qtype\": \"float32\"}}}\n", &st);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(fl.nodes_float, 1);
  compile_with(Dir("qc_bad"), "  quant_config: {\"node_config\": {\"nope\": {\"qtype\": \"int16\"}}}\n", &st);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.message();
  compile_with(Dir("qc_badtype"), "  quant_config: {\"op_config\": {\"Conv\": {\"qtype\": \"int4\"}}}\n", &st);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("int4"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// model_parameters.output_nodes: the named nodes' outputs become the model outputs of every converted stage.
TEST(Compile, OutputNodesReplaceTheModelOutputs) {
  Dir d("outnodes");
  fs::create_directories(d.path + "/calib");
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(write_npy(d.path + "/calib/" + std::to_string(i) + ".npy", test::random_f32({1, 1, 28, 28}, i)).ok());
  CompileResult r;
  Status st = compile_model(
      write_yaml(d, yaml(d.path + "/out", "  cal_data_dir: calib\n", "  output_nodes: '/GlobalAveragePool'\n")), quiet(),
      &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  for (const char* f : {"fm_optimized_float_model.onnx", "fm_ptq_model.onnx", "fm.kwm"}) {
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::open(d.path + "/out/" + f, SessionOptions(), &s).ok()) << f;
    ASSERT_EQ(s->outputs().size(), 1u) << f;
    EXPECT_EQ(s->outputs()[0].shape.size(), 4u) << f << ": GlobalAveragePool's output";
  }
  st = compile_model(write_yaml(d, yaml(d.path + "/out2", "  cal_data_dir: calib\n", "  output_nodes: 'nope'\n")),
                     quiet(), &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(d.path + "/out2/fm_ptq_model.onnx"));
}

}  // namespace
}  // namespace kaiwu
