// The cost model's fixed per-call costs (call_us, cold_call_us with cache_bytes, row_ns and their thread scaling),
// their calibration-file keys, and the frame statistics shared by `kaiwu exec perf` and bench/kaiwu_bench.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "perf/calibration.h"
#include "perf/cost_model.h"
#include "perf/latency_stats.h"

namespace kaiwu {
namespace {

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

// x [1, C, H, W] -> Conv (k x k, `group`, same padding, C -> M) -> y, float.
ir::Model conv_model(int64_t c, int64_t m, int64_t h, int64_t w, int64_t k, int64_t group) {
  ir::Model model;
  model.opsets[""] = 13;
  model.graph.name = "conv";
  ir::ValueInfo x;
  x.name = "x";
  x.dtype = DType::kF32;
  x.has_shape = true;
  for (int64_t d : {int64_t{1}, c, h, w}) x.dims.push_back(ir::Dim::fixed(d));
  model.graph.inputs.push_back(x);
  model.graph.initializers["w"] = Tensor::zeros(DType::kF32, {m, c / group, k, k});
  ir::Node n;
  n.name = "conv";
  n.op_type = "Conv";
  n.inputs = {"x", "w"};
  n.outputs = {"y"};
  n.attrs["group"] = ir::Attribute::make_int(group);
  const int64_t p = k / 2;
  n.attrs["pads"] = ir::Attribute::make_ints({p, p, p, p});
  model.graph.nodes.push_back(n);
  ir::ValueInfo y;
  y.name = "y";
  model.graph.outputs.push_back(y);
  return model;
}

// A spec with no rates for the float convolutions except the fixed costs under test.
perf::TargetSpec bare_spec() {
  perf::TargetSpec t = perf::builtin_target("x86-avx512vnni");
  for (auto* m : {&t.call_us, &t.cold_call_us, &t.row_ns}) m->clear();
  t.node_overhead_us = 0;
  return t;
}

double estimate_ms(const ir::Model& m, const perf::TargetSpec& t, int threads, perf::LayerCost* layer = nullptr) {
  perf::Report r;
  Status st = perf::estimate(m, {}, t, threads, &r);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (layer && !r.layers.empty()) *layer = r.layers[0];
  return r.latency_ms;
}

TEST(CostModel, CallAndColdCallCosts) {
  const ir::Model tiny = conv_model(64, 64, 1, 1, 1, 1);  // an SE-block convolution: nearly no work
  perf::TargetSpec t = bare_spec();
  const double base = estimate_ms(tiny, t, 1);
  t.call_us["conv_fp32"] = 3.0;
  EXPECT_NEAR(estimate_ms(tiny, t, 1) - base, 3e-3, 1e-6);
  // The cold extra applies only when the model's weights exceed the cache.
  t.cold_call_us["conv_fp32"] = 5.0;
  t.cache_bytes = 1 << 20;  // the weights are 16 KB
  EXPECT_NEAR(estimate_ms(tiny, t, 1) - base, 3e-3, 1e-6);
  t.cache_bytes = 1024;
  EXPECT_NEAR(estimate_ms(tiny, t, 1) - base, 8e-3, 1e-6);
  // On two threads a tiny layer gains nothing: its fixed costs stay.
  const double base2 = estimate_ms(tiny, bare_spec(), 2);
  EXPECT_NEAR(estimate_ms(tiny, t, 2) - base2, 8e-3, 2e-4);
  // A big layer divides them by its speedup.
  const ir::Model big = conv_model(64, 64, 56, 56, 3, 1);
  const double big_base1 = estimate_ms(big, bare_spec(), 1), big_base2 = estimate_ms(big, bare_spec(), 2);
  const double d1 = estimate_ms(big, t, 1) - big_base1, d2 = estimate_ms(big, t, 2) - big_base2;
  EXPECT_NEAR(d1, 8e-3, 1e-6);
  EXPECT_LT(d2, 0.7 * d1);
  EXPECT_NEAR(d1 / d2, big_base1 / big_base2, 0.05 * d1 / d2);
}

TEST(CostModel, DepthwiseRowBlocks) {
  // NCHW output [1, 40, 24, 32]: 24 rows, 40 channels = 3 blocks of 16.
  const ir::Model dw = conv_model(40, 40, 24, 32, 3, 40);
  perf::TargetSpec t = bare_spec();
  perf::LayerCost l;
  const double base = estimate_ms(dw, t, 1, &l);
  EXPECT_EQ(l.kernel, "dwconv_fp32");
  EXPECT_EQ(l.out_rows, 24);
  EXPECT_EQ(l.row_blocks, 72);
  t.row_ns["dwconv_fp32"] = 100.0;
  EXPECT_NEAR(estimate_ms(dw, t, 1) - base, 72 * 100e-6, 1e-6);
}

TEST(CostModel, CalibrationFileFixedCosts) {
  const std::string path = ::testing::TempDir() + "/kaiwu_cost_model_cal.json";
  const perf::TargetSpec base = perf::builtin_target("x86-avx512vnni");
  // Measured twice the reference machine's tiny-image call, the same cold extra, half its row cost.
  ASSERT_TRUE(write_text(path, R"({"format": "kaiwu-perf-calibration", "target": "x86-avx512vnni",
      "call_us": {"conv_int8": 3.86}, "cold_call_us": {"conv_int8": 1.16}, "row_ns": {"dwconv_int8": 12.85},
      "cache_bytes": 2097152})")
                  );
  perf::TargetSpec t;
  Status st = perf::read_calibration(path, &t);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_NEAR(t.call_us.at("conv_int8"), 2 * base.call_us.at("conv_int8"), 1e-6);
  EXPECT_NEAR(t.cold_call_us.at("conv_int8"), base.cold_call_us.at("conv_int8"), 1e-6);
  EXPECT_NEAR(t.row_ns.at("dwconv_int8"), 0.5 * base.row_ns.at("dwconv_int8"), 1e-6);
  EXPECT_EQ(t.call_us.at("dwconv_int8"), base.call_us.at("dwconv_int8"));  // not measured: built-in
  EXPECT_EQ(t.cache_bytes, 2097152);
  // What `kaiwu perf --calibrate` writes keeps the keys.
  const std::string again = ::testing::TempDir() + "/kaiwu_cost_model_again.json";
  ASSERT_TRUE(write_text(again, perf::calibration_json(t, "cpu", 2, "[]")));
  perf::TargetSpec t2;
  ASSERT_TRUE(perf::read_calibration(again, &t2).ok());
  EXPECT_EQ(t2.cache_bytes, 2097152);
  for (const char* bad : {R"("cache_bytes": -5)", R"("cache_bytes": "big")", R"("call_us": {"conv_int8": -1})"}) {
    ASSERT_TRUE(write_text(path, std::string(R"({"format": "kaiwu-perf-calibration", "target": "generic", )") + bad +
                                     "}"));
    st = perf::read_calibration(path, &t);
    EXPECT_FALSE(st.ok()) << bad;
    const std::string key = std::string(bad).substr(1, std::string(bad).find('"', 1) - 1);
    EXPECT_NE(st.message().find(key), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
  }
}

TEST(LatencyStats, MedianPercentilesMean) {
  const perf::LatencyStats odd = perf::latency_stats({5, 1, 3});
  EXPECT_EQ(odd.frames, 3);
  EXPECT_DOUBLE_EQ(odd.p50, 3);
  EXPECT_DOUBLE_EQ(odd.mean, 3);
  EXPECT_DOUBLE_EQ(odd.min, 1);
  EXPECT_DOUBLE_EQ(odd.max, 5);
  EXPECT_DOUBLE_EQ(perf::latency_stats({4, 1, 3, 2}).p50, 2.5);  // mean of the middle two
  std::vector<double> v;
  for (int i = 1; i <= 200; ++i) v.push_back(i);
  const perf::LatencyStats s = perf::latency_stats(v);
  EXPECT_DOUBLE_EQ(s.p90, 180);  // nearest rank: ceil(0.9 * 200) = 180th
  EXPECT_DOUBLE_EQ(s.p99, 198);
  EXPECT_DOUBLE_EQ(s.total, 20100);
  EXPECT_EQ(perf::latency_stats({}).frames, 0);
}

TEST(LatencyStats, WarmUpAndTimedCall) {
  int calls = 0;
  EXPECT_TRUE(perf::warm_up([&] { ++calls; return Status::Ok(); }, 0).ok());
  EXPECT_EQ(calls, 1);  // at least one untimed run
  calls = 0;
  Status st = perf::warm_up([&] { return ++calls == 2 ? invalid_argument("boom") : Status::Ok(); }, 5);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(calls, 2);  // stops at the first error
  Status run;
  const double ms = perf::timed_ms([] { return internal_error("x"); }, &run);
  EXPECT_GE(ms, 0);
  EXPECT_FALSE(run.ok());
}

}  // namespace
}  // namespace kaiwu
