// `kaiwu info` on every artifact kind of a compile: description, the input/output table, removable boundary nodes,
// and the -v ONNX view accepted by onnx.checker.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/npy.h"
#include "e2e/e2e_util.h"
#include "test_util.h"

namespace kaiwu {
namespace {

TEST(Info, EveryArtifactKind) {
  e2e::TempDir tmp;
  std::filesystem::create_directories(tmp.file("calib"));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(write_npy(tmp.file("calib/" + std::to_string(i) + ".npy"), test::random_f32({1, 1, 28, 28}, i)).ok());
  const std::string yaml =
      "model_parameters:\n  onnx_model: '" + e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx'\n"
      "  march: x86-avx512vnni\n  working_dir: '" + tmp.file("out") + "'\n  output_model_file_prefix: fm\n"
      "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n  input_type_train: featuremap\n"
      "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
      "calibration_parameters:\n  cal_data_dir: '" + tmp.file("calib") + "'\n  calibration_type: max\n"
      "compiler_parameters:\n  optimize_level: O2\n";
  ASSERT_TRUE(e2e::write_bytes(tmp.file("c.yaml"), yaml).ok());
  const std::string kaiwu = e2e::sh_quote(e2e::build_dir() + "/bin/kaiwu");
  std::string out;
  ASSERT_EQ(test::run_command(kaiwu + " compile -q -c " + tmp.file("c.yaml") + " 2>&1", &out), 0) << out;
  ASSERT_EQ(test::run_command(kaiwu + " info " + tmp.file("out/fm.kwm") + " -v -o " + tmp.file("view.onnx"), &out), 0)
      << out;
  for (const char* part : {"kind: deployable (.kwm)", "target: x86-avx512vnni", "\"calibration_method\": \"max\"",
                           "NAME", "DATA_TYPE", "input    input", "output   logits", "QuantizeLinear, input input",
                           "wrote the ONNX view"})
    EXPECT_NE(out.find(part), std::string::npos) << part << "\n" << out;
  ASSERT_EQ(test::run_command(e2e::sh_quote(e2e::python()) + " -c \"import onnx; onnx.checker.check_model(onnx.load('" +
                                  tmp.file("view.onnx") + "')); print('checker ok')\" 2>&1",
                              &out),
            0)
      << out;
  const std::pair<const char*, const char*> kinds[] = {{"fm_ptq_model.onnx", "kind: QDQ ONNX"},
                                                       {"fm_quantized_model.onnx", "kind: fixed-point ONNX"},
                                                       {"fm_original_float_model.onnx", "kind: float ONNX"}};
  for (const auto& [file, kind] : kinds) {
    ASSERT_EQ(test::run_command(kaiwu + " info " + tmp.file("out/" + std::string(file)), &out), 0) << out;
    EXPECT_NE(out.find(kind), std::string::npos) << file << "\n" << out;
  }
  EXPECT_NE(test::run_command(kaiwu + " info " + tmp.file("missing.onnx") + " 2>&1", &out), 0);
}

// The table line of `name` ("input    NAME ..."), "" when missing.
std::string table_line(const std::string& out, const std::string& kind, const std::string& name) {
  std::string key = kind;
  key.resize(9, ' ');
  key += name + " ";
  const size_t p = out.find(key);
  return p == std::string::npos ? "" : out.substr(p, out.find('\n', p) - p);
}

// Every artifact kind of a gray (pyramid) compile with remove_node_type Dequantize: the kind line and the
// NAME | SHAPE | DATA_TYPE | LAYOUT | SOURCE rows (the runtime frame input_y is NHWC uint8 from the pyramid in the
// fixed-point and deployable models, the ONNX stage models keep the float NCHW input), the removable nodes and
// the deleted nodes; `-v` views of the .kwm and the removed model pass onnx.checker.
TEST(Info, FrameInputsAndRemovedModel) {
  e2e::TempDir tmp;
  std::filesystem::create_directories(tmp.file("calib"));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(write_npy(tmp.file("calib/" + std::to_string(i) + ".npy"), test::random_f32({1, 1, 28, 28}, i, 0.f, 1.f)).ok());
  const std::string yaml =
      "model_parameters:\n  onnx_model: '" + e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx'\n"
      "  march: x86-avx512vnni\n  working_dir: '" + tmp.file("out") + "'\n  output_model_file_prefix: fm\n"
      "  remove_node_type: 'Dequantize'\n"
      "input_parameters:\n  input_name: input\n  input_type_rt: gray\n  input_type_train: gray\n"
      "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n  scale_value: 0.00392156862745098\n"
      "calibration_parameters:\n  cal_data_dir: '" + tmp.file("calib") + "'\n  calibration_type: max\n"
      "  quant_config: {\"model_config\": {\"weight\": {\"calibration_type\": \"max\", \"bias_correction\": false}}}\n";
  ASSERT_TRUE(e2e::write_bytes(tmp.file("c.yaml"), yaml).ok());
  const std::string kaiwu = e2e::sh_quote(e2e::build_dir() + "/bin/kaiwu");
  std::string out;
  ASSERT_EQ(test::run_command(kaiwu + " compile -q -c " + tmp.file("c.yaml") + " 2>&1", &out), 0) << out;
  struct Case {
    const char* file;
    const char* kind;
    const char* input;       // the input row: name then the expected cells in order
    const char* in_cells[4];  // shape, dtype, layout, source
    const char* out_type;
    const char* removable;    // a removable-node line, or "(none)"
  };
  const Case cases[] = {
      {"fm_original_float_model.onnx", "kind: float ONNX", "input", {"?x1x28x28", "f32", "NCHW", "ddr"}, "f32", "(none)"},
      {"fm_optimized_float_model.onnx", "kind: float ONNX", "input", {"?x1x28x28", "f32", "NCHW", "ddr"}, "f32", "(none)"},
      {"fm_calibrated_model.onnx", "kind: QDQ ONNX", "input", {"?x1x28x28", "f32", "NCHW", "ddr"}, "f32",
       "(QuantizeLinear, input input)"},
      {"fm_ptq_model.onnx", "kind: QDQ ONNX", "input", {"?x1x28x28", "f32", "NCHW", "ddr"}, "f32",
       "(QuantizeLinear, input input)"},
      {"fm_quantized_model.onnx", "kind: fixed-point ONNX", "input_y", {"1x28x28x1", "u8", "NHWC", "pyramid (gray_y)"},
       "f32", "(none)"},
      {"fm.kwm", "kind: deployable (.kwm)", "input_y", {"1x28x28x1", "u8", "NHWC", "pyramid (gray_y)"}, "f32", "(none)"},
      {"fm_quantized_removed_model.onnx", "kind: fixed-point ONNX", "input_y",
       {"1x28x28x1", "u8", "NHWC", "pyramid (gray_y)"}, "i32", "(none)"},
      {"fm_removed.kwm", "kind: deployable (.kwm)", "input_y", {"1x28x28x1", "u8", "NHWC", "pyramid (gray_y)"}, "i32",
       "(none)"},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(test::run_command(kaiwu + " info " + tmp.file("out/" + std::string(c.file)), &out), 0) << out;
    EXPECT_NE(out.find(c.kind), std::string::npos) << c.file << "\n" << out;
    std::string line = table_line(out, "input", c.input);
    ASSERT_FALSE(line.empty()) << c.file << "\n" << out;
    size_t at = 0;
    for (const char* cell : c.in_cells) {
      const size_t p = line.find(std::string(" ") + cell, at);
      EXPECT_NE(p, std::string::npos) << c.file << ": '" << cell << "' missing or out of order in: " << line;
      if (p != std::string::npos) at = p + 1;
    }
    line = table_line(out, "output", "logits");
    EXPECT_NE(line.find(std::string(" ") + c.out_type + " "), std::string::npos) << c.file << ": " << line;
    const size_t rem = out.find("############# removable boundary nodes #############");
    ASSERT_NE(rem, std::string::npos) << out;
    EXPECT_NE(out.find(c.removable, rem), std::string::npos) << c.file << "\n" << out;
    const bool removed = std::string(c.file).find("removed") != std::string::npos;
    EXPECT_EQ(out.find("############# deleted nodes #############") != std::string::npos, removed) << c.file << "\n" << out;
    if (removed) {
      EXPECT_NE(out.find("\"type\": \"Dequantize\""), std::string::npos) << out;
      EXPECT_NE(out.find("\"output\": \"logits\", \"dtype\": \"int32\", \"scale\": ["), std::string::npos) << out;
    }
  }
  // -v views of the deployable and the removed fixed-point model open with onnx.checker.
  for (const char* f : {"fm_removed.kwm", "fm_quantized_removed_model.onnx"}) {
    const std::string view = tmp.file(std::string(f) + ".view.onnx");
    ASSERT_EQ(test::run_command(kaiwu + " info -v -o " + view + " " + tmp.file("out/" + std::string(f)), &out), 0) << out;
    ASSERT_EQ(test::run_command(e2e::sh_quote(e2e::python()) + " -c \"import onnx; onnx.checker.check_model(onnx.load('" +
                                    view + "')); print('checker ok')\" 2>&1",
                                &out),
              0)
        << f << ": " << out;
  }
}

}  // namespace
}  // namespace kaiwu
