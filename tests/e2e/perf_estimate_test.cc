// The static performance estimate (src/perf): MAC counts of real models against their published figures, the JSON
// schema, the self-contained HTML, and the estimate written by `kaiwu compile`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "frontend/onnx/onnx_import.h"
#include "passes/passes.h"
#include "perf/cost_model.h"
#include "test_util.h"

namespace kaiwu {
namespace {

perf::Report estimate_model(const std::string& name, int threads = 2) {
  std::string path;
  perf::Report r;
  EXPECT_TRUE(e2e::model_path(name, &path).ok()) << name;
  ir::Model m;
  Status st = frontend::load_onnx(path, &m);
  EXPECT_TRUE(st.ok()) << st.to_string();
  st = passes::optimize_for_cpu(m);
  EXPECT_TRUE(st.ok()) << st.to_string();
  st = perf::estimate(m, {}, perf::builtin_target("x86-avx512vnni"), threads, &r);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return r;
}

// Published: ResNet-50 4.09 GMACs, MobileNetV2 0.30 GMACs at 224x224 (torchvision).
TEST(PerfEstimate, MacCountsOfRealModels) {
  perf::Report r50 = estimate_model("resnet50");
  EXPECT_NEAR(r50.total_macs / 1e9, 4.09, 0.01 * 4.09);
  perf::Report mv2 = estimate_model("mobilenet_v2");
  EXPECT_NEAR(mv2.total_macs / 1e9, 0.30, 0.01 * 0.30);
  EXPECT_GT(r50.latency_ms, 0);
  EXPECT_LT(r50.latency_ms, r50.latency_1t_ms) << "two threads are estimated faster than one";
  EXPECT_GT(r50.peak_activation_bytes, 0);
  EXPECT_GT(r50.model_bytes, 90e6);  // 25.6M float parameters
}

TEST(PerfEstimate, JsonSchemaAndHtml) {
  perf::Report r = estimate_model("mobilenet_v2");
  nlohmann::json j = nlohmann::json::parse(perf::to_json(r));
  for (const char* k : {"model", "target", "target_source", "threads", "latency_ms", "latency_1thread_ms", "fps",
                        "fps_1thread", "fps_parallel_frames",
                        "macs", "ddr_bytes_read_per_frame", "ddr_bytes_written_per_frame", "peak_activation_bytes",
                        "model_bytes", "layers"})
    EXPECT_TRUE(j["summary"].contains(k)) << k;
  ASSERT_TRUE(j["layers"].is_array());
  EXPECT_EQ(j["layers"].size(), r.layers.size());
  int64_t macs = 0;
  double ms = 0;
  for (const auto& l : j["layers"]) {
    for (const char* k : {"name", "op_type", "kernel", "output_shape", "output_dtype", "macs", "padded_macs",
                          "weight_bytes",
                          "read_bytes", "write_bytes", "compute_ms", "memory_ms", "est_ms"})
      EXPECT_TRUE(l.contains(k)) << k;
    macs += l["macs"].get<int64_t>();
    ms += l["est_ms"].get<double>();
  }
  EXPECT_EQ(macs, j["summary"]["macs"].get<int64_t>());
  EXPECT_NEAR(ms, j["summary"]["latency_ms"].get<double>(), 1e-2);
  double by_op = 0;
  for (const auto& [k, v] : j["by_op_type"].items()) by_op += v.get<double>();
  EXPECT_NEAR(by_op, ms, 1e-2);
  const std::string html = perf::to_html(r);
  for (const char* part : {"<table id=\"summary\">", "<table id=\"layers\">", "<svg id=\"top_layers\"", "<script>",
                           "<table id=\"by_op\">"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  for (const char* net : {"http://", "https://", "src=", "<link"})
    if (std::string(net) != "http://" )
      EXPECT_EQ(html.find(net), std::string::npos) << "the page must be self-contained: " << net;
  // The only http:// text allowed is the SVG namespace.
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// `kaiwu perf MODEL --compare PROFILE.json` puts the estimate beside a measured profile (the layout written by
// `kaiwu exec perf --profile_path`), per layer and in total.
TEST(PerfEstimate, CompareWithAMeasuredProfile) {
  e2e::TempDir tmp;
  const std::string model = e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx";
  const std::string kaiwu = e2e::sh_quote(e2e::build_dir() + "/bin/kaiwu");
  std::string out;
  ASSERT_EQ(test::run_command(kaiwu + " exec perf --model_file " + model + " --frame_count 20 --profile_path " +
                                  tmp.file("p.json") + " 2>&1",
                              &out),
            0)
      << out;
  ASSERT_EQ(test::run_command(kaiwu + " perf " + model + " -t 1 -o " + tmp.path() + " --compare " + tmp.file("p.json") +
                                  " 2>&1",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("total: estimated"), std::string::npos) << out;
  EXPECT_NE(out.find("median |error|"), std::string::npos) << out;
  EXPECT_NE(test::run_command(kaiwu + " perf " + model + " --compare " + tmp.file("missing.json") + " 2>&1", &out), 0);
  EXPECT_NE(out.find("missing.json"), std::string::npos) << out;
}

}  // namespace
}  // namespace kaiwu
