// `kaiwu exec` (the measuring runner, like hrt_model_exec): model_info / infer / perf on the Fashion-MNIST example
// (float ONNX) and on a deployable .kwm compiled from it, run through the built binary; infer outputs are compared
// bit for bit with a Session; bad inputs exit non-zero with a message and the usage.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "e2e/e2e_util.h"
#include "kaiwu/compile.h"
#include "test_util.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;

std::string kaiwu_bin() { return e2e::build_dir() + "/bin/kaiwu"; }
std::string fmnist() { return e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx"; }
std::string sample(int i) { return e2e::source_dir() + "/examples/fmnist/sample_" + std::to_string(i) + ".npy"; }

// Runs `kaiwu exec ARGS`, returns the exit code and the output (stdout + stderr).
int exec(const std::string& args, std::string* out) {
  EXPECT_TRUE(test::file_exists(kaiwu_bin())) << kaiwu_bin() << " is not built";
  return test::run_command(e2e::sh_quote(kaiwu_bin()) + " exec " + args, out);
}

bool has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

// Output 0 of `model` run by a Session (1 thread) on `input`.
Tensor session_output(const std::string& model, const Tensor& input) {
  std::unique_ptr<Session> s;
  Status st = e2e::open_session(model, 1, &s);
  EXPECT_TRUE(st.ok()) << st.to_string();
  std::vector<Tensor> outs;
  st = e2e::run_session(*s, s->inputs()[0].name, input, &outs);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return outs.empty() ? Tensor() : outs[0];
}

// Writes a binary PGM (P5) or PPM (P6).
void write_pnm(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& px) {
  std::ofstream f(path, std::ios::binary);
  f << (c == 1 ? "P5" : "P6") << "\n# test image\n" << w << " " << h << "\n255\n";
  f.write(reinterpret_cast<const char*>(px.data()), static_cast<std::streamsize>(px.size()));
}

// The deployable model compiled once from the example (max calibration on the four samples).
class ExecKwm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new e2e::TempDir();
    fs::create_directories(dir_->file("calib"));
    for (int i = 0; i < 4; ++i) fs::copy_file(sample(i), dir_->file("calib/" + std::to_string(i) + ".npy"));
    std::string yaml = dir_->file("config.yaml");
    std::ofstream(yaml) << "model_parameters:\n  onnx_model: '" << fmnist() << "'\n  march: x86-avx512vnni\n"
                        << "  working_dir: '" << dir_->file("out") << "'\n  output_model_file_prefix: fm\n"
                        << "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n"
                        << "  input_type_train: featuremap\n  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
                        << "calibration_parameters:\n  cal_data_dir: '" << dir_->file("calib") << "'\n"
                        << "  calibration_type: max\ncompiler_parameters:\n  optimize_level: O2\n";
    CompileOptions o;
    o.echo = false;
    o.progress = false;
    CompileResult r;
    status_ = new Status(compile_model(yaml, o, &r));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete status_;
  }
  void SetUp() override {
    ASSERT_TRUE(status_->ok()) << status_->to_string();
    ASSERT_TRUE(test::file_exists(kwm())) << kwm();
  }
  static std::string kwm() { return dir_->file("out/fm.kwm"); }
  static e2e::TempDir* dir_;
  static Status* status_;
};
e2e::TempDir* ExecKwm::dir_ = nullptr;
Status* ExecKwm::status_ = nullptr;

TEST(Exec, ModelInfoFloatOnnx) {
  std::string out;
  ASSERT_EQ(exec("model_info --model_file " + e2e::sh_quote(fmnist()), &out), 0) << out;
  for (const char* w : {"Load model to DDR cost", "[fmnist_small]", "model kind: onnx float", "opset 13",
                        "NAME", "DATA_TYPE", "LAYOUT", "SOURCE", "input ", "logits", "float32", "NCHW", "ddr",
                        "(N,1,28,28,)", "3136 (batch 1)"})
    EXPECT_TRUE(has(out, w)) << "no '" << w << "' in:\n" << out;
}

TEST(Exec, InferNpyMatchesSession) {
  e2e::TempDir tmp;
  std::string out;
  ASSERT_EQ(exec("infer --model_file " + e2e::sh_quote(fmnist()) + " --input_file " + e2e::sh_quote(sample(0)) +
                     " --output_dir " + e2e::sh_quote(tmp.path()) + " --thread_num 1 --top_k 3",
                 &out),
            0)
      << out;
  Tensor got, in;
  ASSERT_TRUE(read_npy(tmp.file("logits.npy"), &got).ok()) << out;
  ASSERT_TRUE(read_npy(sample(0), &in).ok());
  Tensor want = session_output(fmnist(), in);
  EXPECT_TRUE(e2e::bit_equal(got, want)) << e2e::diff_summary(got, want);
  // Top-3 printed, best first: the argmax of the output.
  int64_t best = 0;
  for (int64_t i = 1; i < want.numel(); ++i)
    if (want.get_f64(i) > want.get_f64(best)) best = i;
  EXPECT_TRUE(has(out, "top-3:\n    index " + std::to_string(best) + " value")) << out;
}

TEST(Exec, InferRawBinMatchesSession) {
  e2e::TempDir tmp;
  Tensor in;
  ASSERT_TRUE(read_npy(sample(1), &in).ok());
  ASSERT_TRUE(e2e::write_bytes(tmp.file("x.bin"), std::string(static_cast<const char*>(in.raw()), in.nbytes())).ok());
  std::string out;
  ASSERT_EQ(exec("infer -m " + e2e::sh_quote(fmnist()) + " --input_file " + e2e::sh_quote(tmp.file("x.bin")) +
                     " -o " + e2e::sh_quote(tmp.path()),
                 &out),
            0)
      << out;
  Tensor got;
  ASSERT_TRUE(read_npy(tmp.file("logits.npy"), &got).ok());
  EXPECT_TRUE(e2e::bit_equal(got, session_output(fmnist(), in)));
}

TEST(Exec, InferPgmImageMatchesSession) {
  e2e::TempDir tmp;
  // 28x28 gray image fed as is, normalized like the training data: (p - 72.93) * 0.01111.
  std::vector<uint8_t> px(28 * 28);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37 + (i / 28) * 11) % 256);
  write_pnm(tmp.file("a.pgm"), 28, 28, 1, px);
  std::string out;
  ASSERT_EQ(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("a.pgm")) + " -o " +
                     e2e::sh_quote(tmp.path()) + " --mean_value 72.93 --scale_value 0.01111",
                 &out),
            0)
      << out;
  Tensor in = Tensor::empty(DType::kF32, {1, 1, 28, 28});
  for (size_t i = 0; i < px.size(); ++i) in.data<float>()[i] = (static_cast<float>(px[i]) - 72.93f) * 0.01111f;
  Tensor got;
  ASSERT_TRUE(read_npy(tmp.file("logits.npy"), &got).ok());
  EXPECT_TRUE(e2e::bit_equal(got, session_output(fmnist(), in))) << out;
  EXPECT_TRUE(has(out, "top-5:")) << out;

  // 56x56 color image: gray by BT.601 luma (grey pixels stay), bilinear 2x downscale = mean of 2x2 blocks.
  std::vector<uint8_t> big(56 * 56 * 3);
  std::vector<uint8_t> g(56 * 56);
  for (size_t i = 0; i < g.size(); ++i) {
    g[i] = static_cast<uint8_t>((i * 13 + (i / 56) * 7) % 256);
    for (int k = 0; k < 3; ++k) big[i * 3 + k] = g[i];
  }
  write_pnm(tmp.file("b.ppm"), 56, 56, 3, big);
  ASSERT_EQ(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("b.ppm")) + " -o " +
                     e2e::sh_quote(tmp.path()),
                 &out),
            0)
      << out;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      auto p = [&](int yy, int xx) { return static_cast<float>(g[yy * 56 + xx]); };
      in.data<float>()[y * 28 + x] =
          (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1)) / 4.f;
    }
  ASSERT_TRUE(read_npy(tmp.file("logits.npy"), &got).ok());
  EXPECT_TRUE(e2e::bit_equal(got, session_output(fmnist(), in))) << out;
}

// Checks the final block of `kaiwu exec perf` and returns the value of "Average latency".
double check_perf_block(const std::string& out, int frames) {
  for (const char* w : {"Running condition:", "Thread number is:", "Frame count   is: ", "Program run time:",
                        "Perf result:", "Frame totally latency is:", "Average    latency    is:",
                        "Min        latency    is:", "Max        latency    is:", "P50        latency    is:",
                        "P90        latency    is:", "P99        latency    is:", "Frame      rate       is:"})
    EXPECT_TRUE(has(out, w)) << "no '" << w << "' in:\n" << out;
  EXPECT_TRUE(has(out, "Frame count   is: " + std::to_string(frames) + "\n")) << out;
  size_t p = out.find("Average    latency    is: ");
  return p == std::string::npos ? -1 : std::atof(out.c_str() + p + 26);
}

TEST(Exec, PerfBlockAndProfile) {
  e2e::TempDir tmp;
  std::string out;
  ASSERT_EQ(exec("perf --model_file " + e2e::sh_quote(fmnist()) + " --frame_count 30 --warmup 3 --progress_every 10" +
                     " --profile_path " + e2e::sh_quote(tmp.file("prof")),
                 &out),
            0)
      << out;
  double avg = check_perf_block(out, 30);
  EXPECT_GT(avg, 0);
  EXPECT_TRUE(has(out, "Frame count: 10,  Thread Average: ")) << out;
  EXPECT_TRUE(has(out, "Frame count: 30,  Thread Average: ")) << out;
  EXPECT_TRUE(has(out, "thread max latency:") && has(out, "thread min latency:") && has(out, "FPS: ")) << out;
  std::ifstream f(tmp.file("prof/profiler.json"));
  ASSERT_TRUE(f.good()) << out;
  nlohmann::json j = nlohmann::json::parse(f);  // throws (test fails) when not valid JSON
  EXPECT_EQ(j["running_condition"]["frame_count"], 30);
  EXPECT_NEAR(j["perf_result"]["average_latency_ms"].get<double>(), avg, 1e-3);
  ASSERT_TRUE(j["layers"].is_array());
  ASSERT_GE(j["layers"].size(), 5u);
  double share = 0, sum = 0;
  bool has_conv = false;
  for (const auto& l : j["layers"]) {
    for (const char* k : {"node", "op_type", "kernel", "output_shape", "mean_ms", "min_ms", "max_ms", "share", "frames"})
      EXPECT_TRUE(l.contains(k)) << k;
    EXPECT_EQ(l["frames"], 30);
    EXPECT_LE(l["min_ms"].get<double>(), l["mean_ms"].get<double>() + 1e-9);
    EXPECT_LE(l["mean_ms"].get<double>(), l["max_ms"].get<double>() + 1e-9);
    share += l["share"].get<double>();
    sum += l["mean_ms"].get<double>();
    has_conv |= l["op_type"].get<std::string>().find("Conv") != std::string::npos;
  }
  EXPECT_TRUE(has_conv);
  EXPECT_NEAR(share, 1.0, 1e-3);
  EXPECT_NEAR(j["totals"]["layer_time_ms_per_frame"].get<double>(), sum, 1e-3);
  EXPECT_LE(sum, avg * 1.05);  // the layers' time is part of the frame's
}

TEST(Exec, PerfThreadsBothModes) {
  std::string out;
  ASSERT_EQ(exec("perf -m " + e2e::sh_quote(fmnist()) + " --thread_num 2 --frame_count 20 --warmup 2 --both_modes",
                 &out),
            0)
      << out;
  EXPECT_TRUE(has(out, "Threading comparison (2 threads):")) << out;
  EXPECT_TRUE(has(out, "2 frames in parallel, 1 thread each")) << out;
  EXPECT_TRUE(has(out, "1 frame across 2 threads")) << out;
  EXPECT_TRUE(has(out, "Thread number is: 2\n  Intra threads is: 1")) << out;
  EXPECT_TRUE(has(out, "Thread number is: 1\n  Intra threads is: 2")) << out;
}

TEST(Exec, PerfWithInputFile) {
  std::string out;
  ASSERT_EQ(exec("perf -m " + e2e::sh_quote(fmnist()) + " --input_file " + e2e::sh_quote(sample(0)) +
                     " --frame_count 5 --warmup 1 --perf_time_in_seconds 0",
                 &out),
            0)
      << out;
  check_perf_block(out, 5);
  // A .bin input of the wrong size fails naming the file, as in infer.
  e2e::TempDir tmp;
  ASSERT_TRUE(e2e::write_bytes(tmp.file("x.bin"), std::string(12, '\0')).ok());
  EXPECT_NE(exec("perf -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("x.bin")), &out), 0);
  EXPECT_TRUE(has(out, "12 bytes, expected 3136")) << out;
}

TEST(Exec, BadInputs) {
  e2e::TempDir tmp;
  std::string out;
  // Missing model: the file is named, with the usage.
  std::string missing = tmp.file("no_such.onnx");
  EXPECT_NE(exec("model_info --model_file " + e2e::sh_quote(missing), &out), 0) << out;
  EXPECT_TRUE(has(out, missing) && has(out, "Usage")) << out;
  EXPECT_NE(exec("perf --frame_count 5", &out), 0) << out;
  EXPECT_TRUE(has(out, "--model_file") && has(out, "Usage")) << out;
  // Raw input of the wrong size: file and expected bytes named.
  ASSERT_TRUE(e2e::write_bytes(tmp.file("x.bin"), std::string(100, '\0')).ok());
  EXPECT_NE(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("x.bin")), &out), 0);
  EXPECT_TRUE(has(out, tmp.file("x.bin")) && has(out, "100 bytes, expected 3136") && has(out, "'input'")) << out;
  // Wrong .npy shape.
  ASSERT_TRUE(write_npy(tmp.file("y.npy"), Tensor::zeros(DType::kF32, {1, 1, 32, 32})).ok());
  EXPECT_NE(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("y.npy")), &out), 0);
  EXPECT_TRUE(has(out, "[1, 1, 32, 32]")) << out;
  // JPEG: not decoded, told how to convert.
  ASSERT_TRUE(e2e::write_bytes(tmp.file("z.jpg"), std::string("\xff\xd8\xff", 3)).ok());
  EXPECT_NE(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(tmp.file("z.jpg")), &out), 0);
  EXPECT_TRUE(has(out, "PPM") && has(out, "convert")) << out;
  // Too many input files.
  EXPECT_NE(exec("infer -m " + e2e::sh_quote(fmnist()) + " -i " + e2e::sh_quote(sample(0)) + "," +
                     e2e::sh_quote(sample(1)),
                 &out),
            0);
  EXPECT_TRUE(has(out, "1 input(s), 2 --input_file given")) << out;
  // Unknown subcommand, unknown flag, no subcommand: message and usage.
  EXPECT_NE(exec("bogus_sub --model_file " + e2e::sh_quote(fmnist()), &out), 0);
  EXPECT_TRUE(has(out, "Usage") && has(out, "model_info") && has(out, "perf")) << out;
  EXPECT_NE(exec("perf -m " + e2e::sh_quote(fmnist()) + " --bogus_flag 3", &out), 0);
  EXPECT_TRUE(has(out, "--bogus_flag") && has(out, "Usage") && has(out, "--frame_count")) << out;
  EXPECT_NE(exec("", &out), 0);
  EXPECT_TRUE(has(out, "Usage")) << out;
  EXPECT_NE(exec("perf -m " + e2e::sh_quote(fmnist()) + " --frame_count 0", &out), 0);
  EXPECT_TRUE(has(out, "--frame_count")) << out;
}

TEST_F(ExecKwm, ModelInfo) {
  std::string out;
  ASSERT_EQ(exec("model_info --model_file " + e2e::sh_quote(kwm()), &out), 0) << out;
  for (const char* w : {"model kind: deployable .kwm", "deployable model info", "tool_version:", "target:",
                        "description:", "input ", "logits", "ddr"})
    EXPECT_TRUE(has(out, w)) << "no '" << w << "' in:\n" << out;
}

TEST_F(ExecKwm, InferMatchesSession) {
  e2e::TempDir tmp;
  std::string out;
  ASSERT_EQ(exec("infer --model_file " + e2e::sh_quote(kwm()) + " --input_file " + e2e::sh_quote(sample(2)) +
                     " --output_dir " + e2e::sh_quote(tmp.path()),
                 &out),
            0)
      << out;
  Tensor got, in;
  ASSERT_TRUE(read_npy(tmp.file("logits.npy"), &got).ok()) << out;
  ASSERT_TRUE(read_npy(sample(2), &in).ok());
  Tensor want = session_output(kwm(), in);
  EXPECT_TRUE(e2e::bit_equal(got, want)) << e2e::diff_summary(got, want);
}

TEST_F(ExecKwm, Perf) {
  e2e::TempDir tmp;
  std::string out;
  ASSERT_EQ(exec("perf --model_file " + e2e::sh_quote(kwm()) + " --frame_count 20 --warmup 2 --profile_path " +
                     e2e::sh_quote(tmp.file("p.json")),
                 &out),
            0)
      << out;
  EXPECT_GT(check_perf_block(out, 20), 0);
  std::ifstream f(tmp.file("p.json"));
  ASSERT_TRUE(f.good()) << out;
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["model_kind"], "deployable .kwm");
  EXPECT_GE(j["layers"].size(), 3u);
}

}  // namespace
}  // namespace kaiwu
