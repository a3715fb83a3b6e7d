// The per-machine calibration of the cost model: the calibration file (read_calibration scales the built-in rates by
// measured / reference, errors name the file and key), target_for's choice of it, and `kaiwu perf --calibrate`
// end to end with a very short run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "kernels/cpu_info.h"
#include "perf/calibration.h"
#include "perf/cost_model.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string kaiwu_bin() { return e2e::build_dir() + "/bin/kaiwu"; }
bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(PerfCalibration, FileScalesTheBuiltInRates) {
  e2e::TempDir tmp;
  const std::string path = tmp.file("cal.json");
  const perf::TargetSpec base = perf::builtin_target("x86-avx512vnni");
  // conv_int8 measured twice as fast as on the reference machine (235.7 GMAC/s), transposes half as fast.
  ASSERT_TRUE(e2e::write_bytes(path, R"({"format": "kaiwu-perf-calibration", "version": 1,
      "target": "x86-avx512vnni", "node_overhead_us": 0.03, "gmacs": {"conv_int8": 471.4, "new_family": 7},
      "gbytes": {"transpose": 27.9}, "scaling": {"conv_int8": 0.5, "eltwise": 1.0}})")
                  .ok());
  perf::TargetSpec t;
  Status st = perf::read_calibration(path, &t);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(t.source, path);
  EXPECT_NEAR(t.gmacs.at("conv_int8"), 2 * base.gmacs.at("conv_int8"), 1e-6);
  EXPECT_NEAR(t.gbytes.at("transpose"), 0.5 * base.gbytes.at("transpose"), 1e-6);
  EXPECT_EQ(t.gmacs.at("new_family"), 7);
  EXPECT_EQ(t.gmacs.at("conv_fp32"), base.gmacs.at("conv_fp32"));  // not measured: built-in
  EXPECT_EQ(t.scaling.at("conv_int8"), 0.5);                        // min(built-in, measured)
  EXPECT_EQ(t.scaling.at("eltwise"), base.scaling.at("eltwise"));
  // What `kaiwu perf --calibrate` writes reads back.
  const std::string again = tmp.file("again.json");
  ASSERT_TRUE(e2e::write_bytes(again, perf::calibration_json(t, "test_cpu", 2, "[]")).ok());
  perf::TargetSpec t2;
  ASSERT_TRUE(perf::read_calibration(again, &t2).ok());
  EXPECT_EQ(t2.name, "x86-avx512vnni");
}

TEST(PerfCalibration, BadFilesNameTheFileAndKey) {
  e2e::TempDir tmp;
  perf::TargetSpec t;
  const std::string missing = tmp.file("missing.json");
  Status st = perf::read_calibration(missing, &t);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(has(st.message(), missing)) << st.message();
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : {Case{"not json", "is not JSON"}, Case{R"({"format": "other"})", "\"format\""},
                        Case{R"({"format": "kaiwu-perf-calibration"})", "\"target\""},
                        Case{R"({"format": "kaiwu-perf-calibration", "target": "generic", "gmacs": {"conv_int8": -1}})",
                             "\"gmacs\".conv_int8"},
                        Case{R"({"format": "kaiwu-perf-calibration", "target": "generic", "scaling": 3})",
                             "\"scaling\""}}) {
    const std::string path = tmp.file("bad.json");
    ASSERT_TRUE(e2e::write_bytes(path, c.text).ok());
    st = perf::read_calibration(path, &t);
    EXPECT_FALSE(st.ok()) << c.text;
    EXPECT_TRUE(has(st.message(), c.expect) && has(st.message(), path)) << st.message();
  }
}

TEST(PerfCalibration, TargetForUsesTheMachineFile) {
  e2e::TempDir tmp;
  const std::string host = kernels::host_target();
  const std::string path = tmp.file("machine.json");
  ASSERT_TRUE(e2e::write_bytes(path, R"({"format": "kaiwu-perf-calibration", "target": ")" + host +
                                         R"(", "gmacs": {"conv_fp32": 30}})")
                  .ok());
  const char* old = std::getenv("KAIWU_PERF_CALIBRATION");
  const std::string saved = old ? old : "";
  setenv("KAIWU_PERF_CALIBRATION", path.c_str(), 1);
  EXPECT_EQ(perf::calibration_path(), path);
  EXPECT_EQ(perf::target_for(host).source, path);
  const std::string other = host == "generic" ? "x86-avx2" : "generic";
  EXPECT_EQ(perf::target_for(other).source, "built-in");  // another target than the host's: built-in
  ASSERT_TRUE(e2e::write_bytes(path, "{broken").ok());
  std::string note;
  EXPECT_EQ(perf::target_for(host, &note).source, "built-in");
  EXPECT_TRUE(has(note, path)) << note;
  setenv("KAIWU_PERF_CALIBRATION", tmp.file("absent.json").c_str(), 1);
  EXPECT_EQ(perf::target_for(host).source, "built-in");
  if (old) setenv("KAIWU_PERF_CALIBRATION", saved.c_str(), 1);
  else unsetenv("KAIWU_PERF_CALIBRATION");
  EXPECT_NE(perf::cpu_model_slug(), "");
}

// `kaiwu perf --calibrate` (a few runs per case) writes a file that `kaiwu perf MODEL --calibration` then uses.
TEST(PerfCalibration, CliCalibrateThenEstimate) {
  ASSERT_TRUE(test::file_exists(kaiwu_bin())) << kaiwu_bin();
  e2e::TempDir tmp;
  const std::string cal = tmp.file("cal.json");
  std::string out;
  int rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " perf --calibrate --calibrate_seconds 0.001 -t 2 " +
                                 "--calibration " + e2e::sh_quote(cal),
                             &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out, "written to " + cal)) << out;
  std::ifstream f(cal);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["format"], "kaiwu-perf-calibration");
  for (const char* fam : {"conv_int8", "conv_fp32", "dwconv_int8", "dwconv_fp32"})
    EXPECT_GT(j["gmacs"].value(fam, 0.0), 0.0) << fam;
  for (const char* fam : {"transpose", "eltwise", "resize_q", "pool_q"})
    EXPECT_GT(j["gbytes"].value(fam, 0.0), 0.0) << fam;
  EXPECT_GE(j["measurements"].size(), 18u);
  std::string model;
  ASSERT_TRUE(e2e::model_path("fmnist", &model).ok());
  rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " perf " + e2e::sh_quote(model) + " --calibration " +
                             e2e::sh_quote(cal) + " -o " + e2e::sh_quote(tmp.path()),
                         &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out, "cost factors: " + cal)) << out;
  // Bad input: no model, an unreadable calibration file.
  rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " perf", &out);
  EXPECT_NE(rc, 0);
  EXPECT_TRUE(has(out, "a MODEL is required")) << out;
  rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " perf " + e2e::sh_quote(model) + " --calibration " +
                             e2e::sh_quote(tmp.file("nope.json")),
                         &out);
  EXPECT_NE(rc, 0);
  EXPECT_TRUE(has(out, "nope.json")) << out;
}

}  // namespace
}  // namespace kaiwu
