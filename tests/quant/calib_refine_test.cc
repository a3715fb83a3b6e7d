// Calibration refinements on small synthetic layers: MSE weight ranges, bias correction, AdaRound-family rounding,
// cross-layer equalization, and the quant_config keys that select them.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "calib/calibrate.h"
#include "calib/dataset.h"
#include "compiler/calib_refine.h"
#include "compiler/pipeline.h"
#include "quant/quant.h"
#include "quant/refine.h"
#include "runtime/graph_executor.h"
#include "model_builder.h"

namespace kaiwu {
namespace {

Tensor random_tensor(Shape s, uint64_t seed, float lo, float hi) {
  Tensor t = Tensor::empty(DType::kF32, s);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// x [1,4,8,8] -> Relu -> Conv 3x3 pad 1 (4 -> 8) -> y; inputs are non-negative after the Relu (mean ~0.25).
ir::Model relu_conv_model(const Tensor& w, const Tensor& b) {
  test::ModelBuilder mb;
  mb.input("x", {1, 4, 8, 8});
  mb.constant("w", w);
  mb.constant("b", b);
  mb.node("relu", "Relu", {"x"}, {"r"});
  ir::Node& c = mb.node("conv", "Conv", {"r", "w", "b"}, {"y"});
  c.attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  mb.output("y", {1, 8, 8, 8});
  return mb.m;
}

std::unique_ptr<runtime::GraphExecutor> executor(const ir::Model& m) {
  SessionOptions so;
  so.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> e;
  EXPECT_TRUE(runtime::GraphExecutor::create(m, so, &e).ok());
  return e;
}

calib::CalibrationDataset dataset(size_t n) {
  return calib::CalibrationDataset::random({{"x", DType::kF32, {1, 4, 8, 8}}}, n, 7);
}

std::vector<Tensor> run_all(runtime::GraphExecutor& e, const calib::CalibrationDataset& d, const std::string& out) {
  std::vector<Tensor> r;
  for (size_t i = 0; i < d.size(); ++i) {
    NamedTensors feeds;
    EXPECT_TRUE(d.sample(i, &feeds).ok());
    std::vector<Tensor> res;
    EXPECT_TRUE(e.run(feeds, {out}, &res).ok());
    r.push_back(res[0].clone());
  }
  return r;
}

// The model with weight `w` replaced by its dequantized int8 values and the bias shifted by `delta`.
ir::Model with_quantized(const ir::Model& m, const quant::QuantizedWeight& qw, const std::vector<float>& delta) {
  ir::Model q = m;
  Tensor w = q.graph.initializers.at("w").clone();
  const int64_t per = w.numel() / w.dim(0);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = qw.q.data<int8_t>()[i] * qw.scales[i / per];
  q.graph.initializers["w"] = w;
  Tensor b = q.graph.initializers.at("b").clone();
  for (size_t c = 0; c < delta.size(); ++c) b.data<float>()[c] += delta[c];
  q.graph.initializers["b"] = b;
  return q;
}

TEST(CalibRefine, MseWeightRangesNeverWorseThanMax) {
  Tensor w = random_tensor({6, 64, 3, 3}, 1, -1.f, 1.f);
  const int per = 576;
  // Channel 0: values on the grid k / 127 and one slight outlier 1.02: clipping it makes the rest exact.
  for (int k = 0; k < per; ++k) w.data<float>()[k] = static_cast<float>((k * 37) % 255 - 127) / 127.f;
  w.data<float>()[5] = 1.02f;
  std::vector<float> smax, smse;
  ASSERT_TRUE(quant::weight_scales(w, 0, quant::WeightRange::kMax, &smax).ok());
  ASSERT_TRUE(quant::weight_scales(w, 0, quant::WeightRange::kMse, &smse).ok());
  quant::QuantizedWeight qmax, qmse;
  ASSERT_TRUE(quant::quantize_weight(w, 0, quant::WeightRange::kMax, &qmax).ok());
  ASSERT_TRUE(quant::quantize_weight(w, 0, quant::WeightRange::kMse, &qmse).ok());
  EXPECT_LT(smse[0], smax[0]);
  for (int c = 0; c < 6; ++c) {
    EXPECT_LE(smse[c], smax[c] * 1.000001f);
    double emax = 0, emse = 0;
    for (int k = 0; k < per; ++k) {
      const float x = w.data<float>()[c * per + k];
      emax += std::pow(qmax.q.data<int8_t>()[c * per + k] * qmax.scales[c] - x, 2);
      emse += std::pow(qmse.q.data<int8_t>()[c * per + k] * qmse.scales[c] - x, 2);
    }
    EXPECT_LE(emse, emax * (1 + 1e-9)) << "channel " << c;
  }
  Tensor bad = w.clone();
  bad.data<float>()[3] = NAN;
  std::vector<float> s;
  EXPECT_FALSE(quant::weight_scales(bad, 0, quant::WeightRange::kMse, &s).ok());
}

TEST(CalibRefine, BiasCorrectionRemovesTheMeanShift) {
  Tensor w = random_tensor({8, 4, 3, 3}, 2, -0.5f, 0.6f);
  Tensor b = random_tensor({8}, 3, -0.1f, 0.1f);
  ir::Model m = relu_conv_model(w, b);
  auto fexec = executor(m);
  auto data = dataset(8);
  std::vector<compiler::LayerStats> stats;
  ASSERT_TRUE(compiler::collect_layer_stats(m, *fexec, data, {0, 1, 2, 3, 4, 5, 6, 7}, 0, &stats).ok());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].samples, 8);
  quant::QuantOptions q;
  std::map<std::string, std::vector<float>> delta;
  ASSERT_TRUE(compiler::bias_corrections(m, stats, q, &delta).ok());
  ASSERT_EQ(delta.count("conv"), 1u);
  quant::QuantizedWeight qw;
  ASSERT_TRUE(quant::quantize_weight(w, 0, quant::WeightRange::kMax, &qw).ok());
  auto ref = run_all(*fexec, data, "y");
  auto plain = run_all(*executor(with_quantized(m, qw, std::vector<float>(8, 0.f))), data, "y");
  auto fixed = run_all(*executor(with_quantized(m, qw, delta["conv"])), data, "y");
  // Per-channel mean output shift over all samples and positions, before and after the correction.
  double worst_before = 0, worst_after = 0;
  for (int c = 0; c < 8; ++c) {
    double sb = 0, sa = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      for (int p = 0; p < 64; ++p) {
        sb += plain[i].data<float>()[c * 64 + p] - ref[i].data<float>()[c * 64 + p];
        sa += fixed[i].data<float>()[c * 64 + p] - ref[i].data<float>()[c * 64 + p];
      }
    worst_before = std::max(worst_before, std::fabs(sb / (64.0 * ref.size())));
    worst_after = std::max(worst_after, std::fabs(sa / (64.0 * ref.size())));
  }
  EXPECT_GT(worst_before, 1e-4);
  EXPECT_LT(worst_after, 2e-6);
}

TEST(CalibRefine, StatisticsGatheredDuringCalibrationMatchASeparatePass) {
  ir::Model m = relu_conv_model(random_tensor({8, 4, 3, 3}, 2, -0.5f, 0.6f), random_tensor({8}, 3, -0.1f, 0.1f));
  auto fexec = executor(m);
  auto data = dataset(6);
  std::vector<compiler::LayerStats> direct;
  ASSERT_TRUE(compiler::collect_layer_stats(m, *fexec, data, {0, 1, 3, 4, 5}, 100, &direct).ok());
  compiler::LayerCollector c;
  c.init(m, 5, 100);
  calib::CollectOptions co;
  co.kind = calib::ObserverKind::kMinMax;
  co.skip = {2};
  co.on_sample = [&](size_t i, const std::vector<std::string>& nm, const std::vector<Tensor>& v) {
    return c.add(i, nm, v);
  };
  calib::Statistics st;
  ASSERT_TRUE(calib::collect_statistics(*fexec, data, {}, co, &st).ok());
  EXPECT_EQ(c.samples(), 5u);
  auto during = c.take();
  ASSERT_EQ(during.size(), 1u);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(during[0].samples, 5);
  EXPECT_EQ(during[0].patches, direct[0].patches);
  EXPECT_EQ(during[0].mean_sum, direct[0].mean_sum);
  EXPECT_EQ(during[0].hsum, direct[0].hsum);
}

TEST(CalibRefine, RefineRoundingNeverWorseThanNearest) {
  const int64_t k = 24;
  std::mt19937 rng(5);
  std::normal_distribution<double> nd(0, 1);
  std::vector<double> x(k * 200);
  for (auto& v : x) v = nd(rng);
  for (int64_t p = 0; p < 200; ++p)  // correlated inputs
    for (int64_t i = 1; i < k; ++i) x[p * k + i] = 0.7 * x[p * k + i - 1] + 0.3 * x[p * k + i];
  std::vector<double> h(k * k, 0.0);
  for (int64_t p = 0; p < 200; ++p)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) h[i * k + j] += x[p * k + i] * x[p * k + j] / 200;
  std::vector<float> w(k);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& v : w) v = u(rng);
  const float scale = 1.f / 127.f * 4.f;  // coarse grid: rounding matters
  std::vector<int8_t> q(k);
  for (int64_t i = 0; i < k; ++i) q[i] = static_cast<int8_t>(std::nearbyint(w[i] / scale));
  const double before = quant::rounding_error(w.data(), q.data(), k, scale, h.data());
  const int64_t flips = quant::refine_rounding(w.data(), k, scale, h.data(), 10, q.data());
  const double after = quant::rounding_error(w.data(), q.data(), k, scale, h.data());
  EXPECT_GT(flips, 0);
  EXPECT_LT(after, before);
  for (int64_t i = 0; i < k; ++i) {
    EXPECT_GE(q[i], std::floor(w[i] / scale));
    EXPECT_LE(q[i], std::ceil(w[i] / scale));
  }
}

TEST(CalibRefine, AdaroundLowersTheLayerOutputError) {
  Tensor w = random_tensor({8, 4, 3, 3}, 4, -0.5f, 0.5f);
  Tensor b = random_tensor({8}, 5, -0.1f, 0.1f);
  ir::Model m = relu_conv_model(w, b);
  auto fexec = executor(m);
  auto data = dataset(8);
  std::vector<compiler::LayerStats> stats;
  ASSERT_TRUE(compiler::collect_layer_stats(m, *fexec, data, {0, 1, 2, 3, 4, 5, 6, 7}, 512, &stats).ok());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].patches, 512);
  quant::QuantOptions q;
  std::map<std::string, quant::QuantizedWeight> ada;
  double before = 0, after = 0;
  ASSERT_TRUE(compiler::adaround_weights(m, stats, q, false, 4, &ada, &before, &after).ok());
  ASSERT_EQ(ada.count("conv"), 1u);
  EXPECT_LT(after, before);
  quant::QuantizedWeight nearest;
  ASSERT_TRUE(quant::quantize_weight(w, 0, quant::WeightRange::kMax, &nearest).ok());
  auto ref = run_all(*fexec, data, "y");
  auto yn = run_all(*executor(with_quantized(m, nearest, {})), data, "y");
  auto ya = run_all(*executor(with_quantized(m, ada["conv"], {})), data, "y");
  double en = 0, ea = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    for (int64_t k = 0; k < ref[i].numel(); ++k) {
      en += std::pow(yn[i].data<float>()[k] - ref[i].data<float>()[k], 2);
      ea += std::pow(ya[i].data<float>()[k] - ref[i].data<float>()[k], 2);
    }
  EXPECT_LT(ea, en);
  // The given weights are used by insert_qdq.
  quant::QuantOptions qa;
  qa.given_weights = ada;
  std::map<std::string, quant::TensorRange> ranges{{"x", {-1.f, 1.f}}, {"r", {0.f, 1.f}}, {"y", {-3.f, 3.f}}};
  ir::Model qdq = m;
  ASSERT_TRUE(quant::insert_qdq(qdq, ranges, qa, nullptr).ok());
  bool found = false;
  for (const auto& [name, t] : qdq.graph.initializers)
    if (t.dtype() == DType::kI8 && t.numel() == w.numel()) {
      found = true;
      for (int64_t k = 0; k < t.numel(); ++k) ASSERT_EQ(t.data<int8_t>()[k], ada["conv"].q.data<int8_t>()[k]);
    }
  EXPECT_TRUE(found);
}

// Conv A (4 -> 6) -> act -> Conv B (6 -> 5) with badly balanced channel ranges.
ir::Model pair_model(const std::string& act) {
  test::ModelBuilder mb;
  mb.input("x", {1, 4, 6, 6});
  Tensor wa = random_tensor({6, 4, 3, 3}, 11, -1.f, 1.f);
  const float f[6] = {0.01f, 0.1f, 1.f, 3.f, 10.f, 0.5f};
  for (int64_t i = 0; i < wa.numel(); ++i) wa.data<float>()[i] *= f[i / 36];
  mb.constant("wa", wa);
  mb.constant("ba", random_tensor({6}, 12, -0.2f, 0.2f));
  mb.constant("wb", random_tensor({5, 6, 1, 1}, 13, -1.f, 1.f));
  mb.constant("bb", random_tensor({5}, 14, -0.2f, 0.2f));
  mb.node("a", "Conv", {"x", "wa", "ba"}, {"t"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  if (act == "Clip") {
    mb.constant("lo", Tensor::from_vector<float>({0.f}));
    mb.constant("hi", Tensor::from_vector<float>({6.f}));
    mb.node("act", "Clip", {"t", "lo", "hi"}, {"r"});
  } else {
    mb.node("act", act, {"t"}, {"r"});
  }
  mb.node("b", "Conv", {"r", "wb", "bb"}, {"y"});
  mb.output("y", {1, 5, 6, 6});
  return mb.m;
}

TEST(CalibRefine, CrossLayerEqualizationKeepsTheFunctionAndBalancesRanges) {
  ir::Model m = pair_model("Relu");
  ir::Model e = m;
  quant::CleReport r;
  ASSERT_TRUE(quant::equalize_cross_layer(&e, &r).ok());
  EXPECT_EQ(r.pairs, 1);
  EXPECT_GT(r.imbalance_before, 1.0);
  EXPECT_LT(r.imbalance_after, 1e-3);
  // The original model's weights are untouched (no shared storage).
  EXPECT_NE(m.graph.initializers.at("wa").data<float>(), e.graph.initializers.at("wa").data<float>());
  auto data = calib::CalibrationDataset::random({{"x", DType::kF32, {1, 4, 6, 6}}}, 3, 9);
  auto y0 = run_all(*executor(m), data, "y");
  auto y1 = run_all(*executor(e), data, "y");
  for (size_t i = 0; i < y0.size(); ++i)
    for (int64_t k = 0; k < y0[i].numel(); ++k)
      EXPECT_NEAR(y0[i].data<float>()[k], y1[i].data<float>()[k], 1e-5 * (1 + std::fabs(y0[i].data<float>()[k])));
  // Per channel, max |A[c]| == max |B[:, c]|.
  const Tensor& wa = e.graph.initializers.at("wa");
  const Tensor& wb = e.graph.initializers.at("wb");
  for (int c = 0; c < 6; ++c) {
    double r1 = 0, r2 = 0;
    for (int k = 0; k < 36; ++k) r1 = std::max(r1, (double)std::fabs(wa.data<float>()[c * 36 + k]));
    for (int o = 0; o < 5; ++o) r2 = std::max(r2, (double)std::fabs(wb.data<float>()[o * 6 + c]));
    EXPECT_NEAR(r1 / r2, 1.0, 2e-3) << "channel " << c;
  }
  ir::Model clip = pair_model("Clip");
  ASSERT_TRUE(quant::equalize_cross_layer(&clip, &r).ok());
  EXPECT_EQ(r.pairs, 0);
  EXPECT_EQ(r.skipped_clip, 1);
}

// node_info types: InputType int16 makes the node int16; OutputType int16 alone only its output tensors, and
// InputType<k> int16 alone only its k-th input tensor (the Horizon meaning; automatic mixed precision writes these).
TEST(CalibRefine, NodeInfoTypesSelectNodesOrTensors) {
  ir::Model m = pair_model("Relu");
  config::CompileConfig cfg;
  cfg.model.node_info["a"].output_type = "int16";
  cfg.model.node_info["b"].input_type_at[0] = "int16";
  cfg.model.node_info["act"].input_type = "int16";
  cfg.model.node_info["missing"].output_type = "int16";
  quant::QuantOptions q;
  ASSERT_TRUE(compiler::quant_options(cfg, m.graph, &q).ok());
  EXPECT_EQ(q.int16_nodes, (std::set<std::string>{"act", "missing"}));
  EXPECT_EQ(q.int16_tensors, (std::set<std::string>{"t", "r"}));
}

// quant_config groups override earlier ones: all_node_type int16, then one node back to int8 by node_config.
TEST(CalibRefine, NodeConfigOverridesAllNodeTypeInt16) {
  ir::Model m = pair_model("Relu");
  config::CompileConfig cfg;
  cfg.calibration.quant_config_json =
      R"({"model_config": {"all_node_type": "int16"}, "node_config": {"b": {"qtype": "int8"}, "act": {"qtype": "float32"}}})";
  quant::QuantOptions q;
  ASSERT_TRUE(compiler::quant_options(cfg, m.graph, &q).ok());
  EXPECT_FALSE(q.all_int16);
  EXPECT_EQ(q.int16_nodes.count("a"), 1u);
  EXPECT_EQ(q.int16_nodes.count("b"), 0u);
  EXPECT_EQ(q.int16_nodes.count("act"), 0u);
  EXPECT_EQ(q.float_nodes, (std::set<std::string>{"act"}));
  // Without overrides the flag stays.
  cfg.calibration.quant_config_json = R"({"model_config": {"all_node_type": "int16"}})";
  quant::QuantOptions all;
  ASSERT_TRUE(compiler::quant_options(cfg, m.graph, &all).ok());
  EXPECT_TRUE(all.all_int16);
}

TEST(CalibRefine, QuantConfigKeys) {
  config::CompileConfig cfg;
  compiler::RefineOptions o;
  ASSERT_TRUE(compiler::refine_options(cfg, &o).ok());
  EXPECT_EQ(o.weight_mse, compiler::RefineMode::kOff);
  EXPECT_EQ(o.bias_correction, compiler::RefineMode::kAuto);
  EXPECT_EQ(o.adaround, compiler::RefineMode::kOff);
  EXPECT_FALSE(o.cle);
  cfg.calibration.quant_config_json =
      R"({"model_config": {"all_node_type": "int8", "cross_layer_equalization": true,
          "weight": {"calibration_type": "mse", "bias_correction": false,
                     "adaround": {"patches": 256, "passes": 2}}},
          "op_config": {"conv": {"qtype": "int16"}}})";
  ASSERT_TRUE(compiler::refine_options(cfg, &o).ok());
  EXPECT_EQ(o.weight_mse, compiler::RefineMode::kOn);
  EXPECT_EQ(o.bias_correction, compiler::RefineMode::kOff);
  EXPECT_EQ(o.adaround, compiler::RefineMode::kOn);
  EXPECT_EQ(o.adaround_patches, 256);
  EXPECT_EQ(o.adaround_passes, 2);
  EXPECT_TRUE(o.cle);
  // The existing keys still work next to the new ones.
  ir::Model m = pair_model("Relu");
  quant::QuantOptions q;
  ASSERT_TRUE(compiler::quant_options(cfg, m.graph, &q).ok());
  EXPECT_EQ(q.int16_nodes.count("a"), 1u);
  for (const char* bad : {R"({"model_config": {"weight": {"bias_correction": "maybe"}}})",
                          R"({"model_config": {"weight": {"calibration_type": "kl"}}})",
                          R"({"model_config": {"weight": {"adaround": {"patches": 0}}}})",
                          R"({"model_config": {"cross_layer_equalization": "auto"}})"}) {
    cfg.calibration.quant_config_json = bad;
    Status st = compiler::refine_options(cfg, &o);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("quant_config.model_config"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace kaiwu
