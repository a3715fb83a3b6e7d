// The precision debugger on the Fashion-MNIST CNN: a working_dir is compiled once (20 real test images as
// calibration data; cached in <build>/tests/debug_fixture_v1), then the QDQ analysis, partial models, sensitivity, accumulated error, distributions, runall
// and automatic mixed precision are checked on it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/compile_config.h"
#include "core/npy.h"
#include "debug/amp.h"
#include "debug/debugger.h"
#include "eval/dataset.h"
#include "frontend/onnx/onnx_import.h"
#include "kaiwu/compile.h"
#include "runtime/graph_executor.h"

namespace kaiwu::debug {
namespace {

namespace fs = std::filesystem;

std::string shared_dir() {
  const char* e = std::getenv("KAIWU_SHARED");
  return e ? e : KAIWU_DEFAULT_SHARED;
}

std::string read_text(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One compiled fmnist working_dir for the whole suite.
class DebuggerTest : public ::testing::Test {
 protected:
  // The compiled working_dir is cached in the build tree (ctest runs every test in its own process): made once
  // under a lock, reused while the stamp file exists.
  static void SetUpTestSuite() {
    const char* b = std::getenv("KAIWU_BUILD");
    dir_ = std::string(b ? b : KAIWU_DEFAULT_BUILD) + "/tests/debug_fixture_v1";
    fs::create_directories(dir_);
    const int lock = ::open((dir_ + "/.lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    if (!fs::exists(dir_ + "/stamp")) make_fixture();
    if (lock >= 0) ::close(lock);
  }
  static void make_fixture() {
    const std::string ds = "/usr/share/datasets/fashion-mnist";
    std::unique_ptr<eval::Dataset> data;
    Status st = eval::open_idx(ds + "/t10k-images-idx3-ubyte.gz", ds + "/t10k-labels-idx1-ubyte.gz", 0.2860f,
                               0.3530f, 20, &data);
    if (!st.ok()) {
      error_ = st.to_string();
      return;
    }
    fs::create_directories(dir_ + "/calib/input");
    for (size_t i = 0; i < data->size(); ++i) {
      eval::Sample s;
      st = data->get(i, &s);
      if (st.ok()) st = write_npy(dir_ + "/calib/input/" + std::to_string(100 + i) + ".npy", s.input);
      if (!st.ok()) {
        error_ = st.to_string();
        return;
      }
    }
    std::ofstream(dir_ + "/config.yaml")
        << "model_parameters:\n  onnx_model: " << shared_dir() << "/models/fmnist/fmnist_cnn.onnx\n"
        << "  march: x86-avx512vnni\n  working_dir: " << dir_ << "/out\n  output_model_file_prefix: fmnist\n"
        << "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n  input_type_train: featuremap\n"
        << "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
        << "calibration_parameters:\n  cal_data_dir: " << dir_ << "/calib/input\n  calibration_type: max\n"
        << "  quant_config: '{\"model_config\": {\"weight\": {\"calibration_type\": \"max\", "
           "\"bias_correction\": false}}}'\n"
        << "compiler_parameters:\n  optimize_level: O2\n";
    CompileOptions co;
    co.echo = false;
    co.progress = false;
    CompileResult r;
    st = compile_model(dir_ + "/config.yaml", co, &r);
    if (!st.ok()) error_ = st.to_string();
    else std::ofstream(dir_ + "/stamp") << "ok\n";
  }
  void SetUp() override {
    if (!error_.empty()) GTEST_FAIL() << "setup: " << error_;
  }
  static std::unique_ptr<DebugSession> session(size_t data_num = 6) {
    SessionSpec spec;
    spec.working_dir = dir_ + "/out";
    spec.data_dir = dir_ + "/calib";
    spec.data_num = data_num;
    std::unique_ptr<DebugSession> s;
    Status st = open_debug_session(spec, &s);
    EXPECT_TRUE(st.ok()) << st.to_string();
    return s;
  }
  static std::string dir_, error_;
};
std::string DebuggerTest::dir_, DebuggerTest::error_;

TEST(DebugMetrics, KnownValues) {
  ErrorStats s;
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}), b = Tensor::from_vector<float>({1, 2, 3, 6});
  ASSERT_TRUE(s.add(a, b));
  EXPECT_NEAR(s.value(Metric::kMse), 1.0, 1e-12);
  EXPECT_NEAR(s.value(Metric::kMae), 0.5, 1e-12);
  EXPECT_NEAR(s.value(Metric::kChebyshev), 2.0, 1e-12);
  EXPECT_NEAR(s.value(Metric::kMre), 0.2, 1e-12);
  EXPECT_NEAR(s.value(Metric::kSqnr), 10 * std::log10(30.0 / 4.0), 1e-9);
  EXPECT_NEAR(s.value(Metric::kCosine), 38.0 / std::sqrt(30.0 * 50.0), 1e-12);
  // Task metrics: argmax agreement per row of the last axis, IoU of the maps binarized at `binarize`.
  ErrorStats t;
  t.binarize = 2.5f;
  Tensor p = Tensor::from_vector<float>({0.1f, 3, 1, 5, 0, 2}, {3, 2}),
         q = Tensor::from_vector<float>({0.2f, 2.6f, 1, 0, 3, 2.4f}, {3, 2});
  ASSERT_TRUE(t.add(p, q));
  EXPECT_NEAR(t.value(Metric::kTop1), 1.0 / 3.0, 1e-12);  // rows (0.1,3)/(0.2,2.6) agree; (1,5)/(1,0), (0,2)/(3,2.4) not
  EXPECT_NEAR(t.value(Metric::kIou), 1.0 / 3.0, 1e-12);   // > 2.5: p {1, 3}, q {1, 4}
  ErrorStats none;
  EXPECT_DOUBLE_EQ(none.value(Metric::kIou), 1.0);
  EXPECT_TRUE(higher_is_better(Metric::kIou) && higher_is_better(Metric::kTop1));
  Metric m;
  EXPECT_TRUE(parse_metric("iou", &m).ok());
  EXPECT_EQ(m, Metric::kIou);
  EXPECT_TRUE(parse_metric("top1", &m).ok());
  EXPECT_EQ(m, Metric::kTop1);
  EXPECT_TRUE(parse_metric("cosine-similarity", &m).ok());
  EXPECT_EQ(m, Metric::kCosine);
  Status bad = parse_metric("psnr", &m);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("psnr"), std::string::npos);
}

TEST_F(DebuggerTest, PartialModelsMatchFloatAndQdq) {
  auto s = session(4);
  ASSERT_TRUE(s);
  const QdqAnalysis& a = s->analysis;
  int convs = 0;
  for (const auto& n : a.nodes) convs += a.op_type.at(n) == "Conv" || a.op_type.at(n) == "Gemm";
  EXPECT_EQ(convs, 6) << "5 Conv + Gemm read quantized inputs";
  EXPECT_GE(a.weights.size(), 6u);
  EXPECT_GE(a.activations.size(), 6u);
  EXPECT_TRUE(a.warnings.empty()) << a.warnings[0];
  // All edges inactive: the float model; all active: the QDQ model itself.
  ir::Model none, all, flt;
  ASSERT_TRUE(build_partial(a, mask_none(a), &none).ok());
  ASSERT_TRUE(build_partial(a, mask_all(a), &all).ok());
  int qdq_nodes = 0;
  for (const auto& n : none.graph.nodes) qdq_nodes += n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear";
  EXPECT_EQ(qdq_nodes, 0);
  ASSERT_TRUE(frontend::load_onnx(s->float_path, &flt).ok());
  std::vector<ErrorStats> st;
  ASSERT_TRUE(s->ev->evaluate(flt, &st).ok());
  EXPECT_GT(st[0].value(Metric::kCosine), 0.999999);
  EXPECT_LT(st[0].value(Metric::kChebyshev), 1e-4);
  ASSERT_TRUE(s->ev->evaluate(all, &st).ok());
  const double full = st[0].value(Metric::kCosine);
  EXPECT_LT(full, 0.999999);
  EXPECT_GT(full, 0.99);
  ir::Model ptq;
  ASSERT_TRUE(frontend::load_onnx(s->model_path, &ptq).ok());
  std::vector<ErrorStats> st2;
  ASSERT_TRUE(s->ev->evaluate(ptq, &st2).ok());
  EXPECT_DOUBLE_EQ(st2[0].value(Metric::kCosine), full);
}

TEST_F(DebuggerTest, SensitivityRanksWorstFirst) {
  auto s = session();
  ASSERT_TRUE(s);
  for (const std::string kind : {"node", "weight", "activation"}) {
    SensitivityOptions o;
    o.node_type = kind;
    o.metrics = {Metric::kCosine, Metric::kMse, Metric::kSqnr};
    std::vector<SensitivityRow> rows;
    ASSERT_TRUE(node_sensitivity(s->analysis, *s->ev, o, &rows).ok());
    ASSERT_EQ(rows.size(), s->analysis.items(kind).size());
    for (size_t i = 1; i < rows.size(); ++i) EXPECT_LE(rows[i - 1].values[0], rows[i].values[0]) << kind;
    for (const auto& r : rows) {
      EXPECT_LE(r.values[0], 1.0 + 1e-9);
      EXPECT_GT(r.values[0], 0.9);
      EXPECT_GE(r.values[1], 0.0);
    }
    const std::string t = sensitivity_table(rows, o.metrics, kind);
    EXPECT_NE(t.find("==========================" + kind + "=========================="), std::string::npos) << t;
    EXPECT_NE(t.find("cosine-similarity"), std::string::npos);
    EXPECT_NE(t.find(rows[0].name), std::string::npos);
  }
  // all_but_one: the item whose exclusion helps most comes first (highest cosine).
  SensitivityOptions o;
  o.all_but_one = true;
  std::vector<SensitivityRow> rows;
  ASSERT_TRUE(node_sensitivity(s->analysis, *s->ev, o, &rows).ok());
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].values[0], rows[i].values[0]);
  o.interested = {"no_such_node"};
  Status st = node_sensitivity(s->analysis, *s->ev, o, &rows);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_node"), std::string::npos);
}

TEST_F(DebuggerTest, AccumulatedErrorAndDistributions) {
  auto s = session(4);
  ASSERT_TRUE(s);
  AccumulatedError r;
  ASSERT_TRUE(accumulate_error(s->analysis, *s->ev, standard_sets(s->analysis), Metric::kCosine, false, &r).ok());
  ASSERT_EQ(r.values.size(), 3u);
  ASSERT_GE(r.layers.size(), 10u);
  // The last layer is the Gemm producing the output: same cosine as the output comparison.
  std::vector<ErrorStats> st;
  ir::Model all;
  ASSERT_TRUE(build_partial(s->analysis, mask_all(s->analysis), &all).ok());
  ASSERT_TRUE(s->ev->evaluate(all, &st).ok());
  EXPECT_NEAR(r.values[0].back(), st[0].value(Metric::kCosine), 1e-9);
  for (double v : r.values[0]) EXPECT_GT(v, 0.9);
  EXPECT_NE(accumulated_svg(r).find("<polyline"), std::string::npos);
  EXPECT_NE(accumulated_table(r).find(r.layers[0]), std::string::npos);

  std::vector<NodeDistribution> d;
  const std::string conv = s->analysis.nodes[0];
  ASSERT_TRUE(distributions(s->analysis, *s->ev, {conv}, 32, &d).ok());
  ASSERT_EQ(d.size(), 1u);
  double total_f = 0, total_q = 0;
  for (double c : d[0].act_float.counts) total_f += c;
  for (double c : d[0].act_quant.counts) total_q += c;
  EXPECT_GT(total_f, 0);
  EXPECT_EQ(total_f, total_q);
  EXPECT_TRUE(d[0].has_weight);
  EXPECT_FALSE(d[0].w_cmin.empty());
  EXPECT_FALSE(d[0].act_cmin.empty());
  for (size_t c = 0; c < d[0].w_cmin.size(); ++c) EXPECT_LE(d[0].w_cmin[c], d[0].w_cmax[c]);
  EXPECT_NE(distribution_svg(d[0]).find("<svg"), std::string::npos);
  EXPECT_FALSE(distributions(s->analysis, *s->ev, {"nope"}, 32, &d).ok());
}

TEST_F(DebuggerTest, RunallWritesSelfContainedReport) {
  auto s = session(4);
  ASSERT_TRUE(s);
  RunallOptions o;
  o.top = 2;
  std::string html;
  const std::string out = dir_ + "/runall";
  ASSERT_TRUE(runall(s->analysis, *s->ev, out, o, &html).ok());
  const std::string text = read_text(html);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_EQ(text.find("<script"), std::string::npos);
  EXPECT_EQ(text.find("http://"), text.find("http://www.w3.org/2000/svg"));
  for (const char* f : {"node_sensitivity/sensitivity_of_weight.log", "node_sensitivity/sensitivity_of_activation.log",
                        "accumulate_error/accumulate_error.svg"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
}

TEST_F(DebuggerTest, AutoMixedPrecisionReachesTarget) {
  AmpOptions o;
  o.config = dir_ + "/config.yaml";
  o.target = 0.99985;
  o.data_num = 10;
  o.rank_samples = 3;
  o.max_raises = 6;
  AmpResult r;
  std::string log;
  Status st = auto_mixed_precision(o, &r, [&](const std::string& s) { log += s + "\n"; });
  ASSERT_TRUE(st.ok()) << st.to_string();
  // The compile's weights (int8 values and int32 biases of its QDQ model) are reused: fmnist has 6 weighted layers.
  EXPECT_NE(log.find("reused: 6 weights, 6 biases"), std::string::npos) << log;
  EXPECT_LT(r.before, o.target) << "fmnist int8 should miss this target";
  EXPECT_TRUE(r.reached) << r.report;
  EXPECT_GE(r.after, o.target);
  // The result is checked on the 10 other samples; here the search's own set (nothing was pruned) reads 0.99981
  // there, so the report flags it.
  EXPECT_EQ(r.validation_samples, 10u);
  EXPECT_GT(r.validation, r.before - 1e-4) << r.report;
  EXPECT_NE(r.report.find("validation on 10 other samples"), std::string::npos) << r.report;
  EXPECT_EQ(r.validation < o.target, r.report.find("below the target") != std::string::npos) << r.report;
  EXPECT_FALSE(r.final.empty());
  EXPECT_TRUE(fs::exists(r.qdq_path));
  EXPECT_TRUE(fs::exists(r.fixed_path));
  EXPECT_TRUE(fs::exists(r.kwm_path));
  // The yaml with the node_info block parses and names the raised nodes.
  config::CompileConfig cfg;
  std::vector<std::string> warn;
  ASSERT_TRUE(config::load_config(r.yaml_path, &cfg, &warn).ok());
  for (const auto& s : r.final) {
    ASSERT_TRUE(cfg.model.node_info.count(s.yaml_node)) << s.node << " via " << s.yaml_node;
    const config::NodeInfo& ni = cfg.model.node_info.at(s.yaml_node);
    if (s.op_type == "activation") {  // an int16 tensor: its producer's output type or a reader's input type
      EXPECT_EQ(s.qtype, "int16");
      EXPECT_TRUE(ni.output_type == "int16" || !ni.input_type_at.empty()) << s.yaml_node;
    } else if (s.qtype == "float") {
      EXPECT_EQ(ni.on, "CPU") << s.yaml_node;
    }
  }
  EXPECT_NE(r.report.find("before: output cosine"), std::string::npos);
  // Bad inputs are named.
  o.config = dir_ + "/missing.yaml";
  EXPECT_FALSE(auto_mixed_precision(o, &r).ok());
  o.config = dir_ + "/config.yaml";
  o.target = 1.5;
  EXPECT_FALSE(auto_mixed_precision(o, &r).ok());
  o.target = 0.99;
  o.metric = "mse";  // not a target metric
  st = auto_mixed_precision(o, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("mse"), std::string::npos);
}

// A task-metric target: the top-1 agreement with float of the 10 evaluation samples. int8 fmnist already agrees on
// all of them, so nothing is raised and the report names the metric.
TEST_F(DebuggerTest, AutoMixedPrecisionTaskMetricTarget) {
  AmpOptions o;
  o.config = dir_ + "/config.yaml";
  o.metric = "top1";
  o.target = 1.0;
  o.data_num = 10;
  o.out_dir = dir_ + "/amp_top1";
  AmpResult r;
  Status st = auto_mixed_precision(o, &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_DOUBLE_EQ(r.before, 1.0);
  EXPECT_TRUE(r.reached);
  EXPECT_TRUE(r.final.empty());
  EXPECT_NE(r.report.find("before: top-1 agreement 1"), std::string::npos) << r.report;
}

TEST(DebugSession, BadInputsAreNamed) {
  SessionSpec spec;
  spec.working_dir = "/nonexistent/wd";
  std::unique_ptr<DebugSession> s;
  Status st = open_debug_session(spec, &s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/wd"), std::string::npos);
  // A float model has nothing to debug.
  spec = SessionSpec();
  spec.model = shared_dir() + "/models/fmnist/fmnist_cnn.onnx";
  st = open_debug_session(spec, &s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("QuantizeLinear"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace kaiwu::debug
