// Config keys of the compile UX work: calibration_type load with load_model, asymmetric activations (both forms).
#include <gtest/gtest.h>

#include "config/compile_config.h"

namespace kaiwu::config {
namespace {

Status parse_calib(const std::string& calib, CompileConfig* c, std::vector<std::string>* w) {
  std::string y = "model_parameters:\n  onnx_model: 'm.onnx'\n  march: 'nash-e'\n"
                  "input_parameters:\n  input_type_rt: 'featuremap'\n  input_type_train: 'featuremap'\n"
                  "calibration_parameters:\n" + calib + "compiler_parameters:\n  jobs: 4\n";
  return parse_config(y, "c.yaml", "/cfg/base", c, w);
}

TEST(ConfigUx, LoadNeedsLoadModel) {
  CompileConfig c;
  std::vector<std::string> w;
  Status st = parse_calib("  calibration_type: load\n", &c, &w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("load_model"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("c.yaml:"), std::string::npos) << st.message();
  st = parse_calib("  calibration_type: load\n  load_model: qat/m_qdq.onnx\n", &c, &w);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(c.calibration.calibration_type, "load");  // no cal_data_dir: load stays load
  EXPECT_EQ(c.calibration.load_model, "/cfg/base/qat/m_qdq.onnx");
  // Round trip keeps both.
  CompileConfig back;
  ASSERT_TRUE(parse_config(config_to_yaml(c), "gen.yaml", "/x", &back, nullptr).ok());
  EXPECT_EQ(back.calibration.load_model, c.calibration.load_model);
  EXPECT_TRUE(back == c);
  // load_model with another type: a warning.
  w.clear();
  ASSERT_TRUE(parse_calib("  cal_data_dir: d\n  calibration_type: max\n  load_model: q.onnx\n", &c, &w).ok());
  bool warned = false;
  for (const auto& s : w) warned |= s.find("load_model") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(ConfigUx, AsymmetricBothForms) {
  CompileConfig c;
  std::vector<std::string> w;
  ASSERT_TRUE(parse_calib("  cal_data_dir: d\n", &c, &w).ok());
  EXPECT_FALSE(c.calibration.asymmetric);
  ASSERT_TRUE(parse_calib("  cal_data_dir: d\n  asymmetric: true\n", &c, &w).ok());
  EXPECT_TRUE(c.calibration.asymmetric);
  ASSERT_TRUE(parse_calib("  cal_data_dir: d\n  quant_config: {\"activation\": {\"asymmetric\": true}}\n", &c, &w).ok());
  EXPECT_TRUE(c.calibration.asymmetric);
  Status st = parse_calib("  cal_data_dir: d\n  quant_config: {\"activation\": {\"asymmetric\": maybe}}\n", &c, &w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("activation.asymmetric"), std::string::npos) << st.message();
  st = parse_calib("  cal_data_dir: d\n  asymmetric: 3\n", &c, &w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("asymmetric"), std::string::npos) << st.message();
  // Round trip.
  ASSERT_TRUE(parse_calib("  cal_data_dir: d\n  asymmetric: true\n", &c, &w).ok());
  CompileConfig back;
  ASSERT_TRUE(parse_config(config_to_yaml(c), "gen.yaml", "/x", &back, nullptr).ok());
  EXPECT_TRUE(back.calibration.asymmetric);
}

}  // namespace
}  // namespace kaiwu::config
