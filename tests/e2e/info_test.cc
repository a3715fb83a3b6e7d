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

}  // namespace
}  // namespace kaiwu
