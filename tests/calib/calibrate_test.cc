// The calibration driver on a tiny model built in code, and the JSON artifact.
#include <gtest/gtest.h>

#include <algorithm>

#include "calib/calibrate.h"
#include "calib_test_util.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "test_util.h"

namespace kaiwu::calib {
namespace {

// x[1, 2, 3, 3] -> Mul by per-channel constant c[2, 1, 1] = {2, -3} -> m -> Relu -> y.
ir::Model tiny_model() {
  ir::Model m;
  m.opsets[""] = 13;
  ir::ValueInfo x;
  x.name = "x";
  x.dtype = DType::kF32;
  x.has_shape = true;
  for (int64_t d : {1, 2, 3, 3}) x.dims.push_back(ir::Dim::fixed(d));
  m.graph.inputs.push_back(x);
  m.graph.initializers["c"] = Tensor::from_vector<float>({2.f, -3.f}, {2, 1, 1});
  ir::Node mul;
  mul.name = "mul0";
  mul.op_type = "Mul";
  mul.inputs = {"x", "c"};
  mul.outputs = {"m"};
  ir::Node relu;
  relu.name = "relu0";
  relu.op_type = "Relu";
  relu.inputs = {"m"};
  relu.outputs = {"y"};
  m.graph.nodes = {mul, relu};
  ir::ValueInfo y;
  y.name = "y";
  m.graph.outputs.push_back(y);
  return m;
}

std::unique_ptr<runtime::GraphExecutor> make_exec(int threads) {
  SessionOptions o;
  o.num_threads = threads;
  o.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status st = runtime::GraphExecutor::create(tiny_model(), o, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return ex;
}

std::vector<InputSpec> tiny_inputs() { return {InputSpec{"x", DType::kF32, {1, 2, 3, 3}}}; }

TEST(CalibDriver, StreamsRequestedTensorsIntoObservers) {
  auto ex = make_exec(1);
  ASSERT_TRUE(ex);
  CalibrationDataset data = random_dataset(tiny_inputs(), 5, 9);
  // Expected ranges, computed directly from the samples.
  float xmin = 1e9f, xmax = -1e9f, mmin = 1e9f, mmax = -1e9f;
  for (size_t i = 0; i < data.size(); ++i) {
    NamedTensors f;
    ASSERT_TRUE(data.sample(i, &f).ok());
    const float* x = f[0].second.data<float>();
    for (int k = 0; k < 18; ++k) {
      float m = x[k] * (k < 9 ? 2.f : -3.f);
      xmin = std::min(xmin, x[k]);
      xmax = std::max(xmax, x[k]);
      mmin = std::min(mmin, m);
      mmax = std::max(mmax, m);
    }
  }
  std::vector<std::pair<size_t, size_t>> calls;
  CollectOptions opts;
  opts.per_channel_axis = 1;
  Statistics st;
  Status s = collect_statistics(*ex, data, {"x", "m", "y"}, opts, &st,
                                [&](size_t done, size_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(s.ok()) << s.to_string();
  ASSERT_EQ(st.tensors.size(), 3u);
  EXPECT_EQ(st.num_samples, 5u);
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls.back(), std::make_pair(size_t{5}, size_t{5}));
  const TensorStats* x = st.find("x");
  const TensorStats* m = st.find("m");
  const TensorStats* y = st.find("y");
  ASSERT_TRUE(x && m && y && m->hist);
  EXPECT_EQ(x->minmax.min(), xmin);
  EXPECT_EQ(x->minmax.max(), xmax);
  EXPECT_EQ(m->minmax.min(), mmin);
  EXPECT_EQ(m->minmax.max(), mmax);
  EXPECT_EQ(m->hist->min(), mmin);
  EXPECT_EQ(y->minmax.min(), 0.f);
  EXPECT_EQ(y->minmax.max(), mmax);
  ASSERT_EQ(m->minmax.channel_max().size(), 2u);
  EXPECT_LE(m->minmax.channel_max()[0], 2.f);   // channel 0: 2 * [-1, 1)
  EXPECT_GE(m->minmax.channel_min()[0], -2.f);
  EXPECT_GT(m->minmax.channel_max()[1], 2.f);   // channel 1: -3 * [-1, 1) reaches beyond 2
  EXPECT_EQ(m->hist->finite_count(), 5u * 18u);

  CalibrationTable table;
  SelectOptions so;
  ASSERT_TRUE(make_calibration_table(st, so, &table).ok());
  EXPECT_EQ(table.tensors.at("m").max, mmax);
  EXPECT_EQ(table.tensors.at("m").channel_axis, 1);
  EXPECT_EQ(table.num_samples, 5u);
}

TEST(CalibDriver, HeldOutSamplesAreNotObserved) {
  auto ex = make_exec(1);
  ASSERT_TRUE(ex);
  CalibrationDataset data = random_dataset(tiny_inputs(), 6, 3);
  float xmax = -1e9f;  // the max over samples 0, 2, 3, 5 only
  for (size_t i : {0, 2, 3, 5}) {
    NamedTensors f;
    ASSERT_TRUE(data.sample(i, &f).ok());
    for (int k = 0; k < 18; ++k) xmax = std::max(xmax, f[0].second.data<float>()[k]);
  }
  CollectOptions opts;
  opts.kind = ObserverKind::kMinMax;
  opts.skip = {1, 4};
  Statistics st;
  size_t last = 0;
  ASSERT_TRUE(collect_statistics(*ex, data, {"x"}, opts, &st, [&](size_t d, size_t) { last = d; }).ok());
  EXPECT_EQ(st.num_samples, 4u);
  EXPECT_EQ(last, 6u) << "progress still counts every sample";
  EXPECT_EQ(st.find("x")->minmax.max(), xmax);
  opts.skip = {0, 1, 2, 3, 4, 5};
  EXPECT_FALSE(collect_statistics(*ex, data, {"x"}, opts, &st).ok());
}

TEST(CalibDriver, OnSampleSeesEveryObservedSample) {
  auto ex = make_exec(1);
  ASSERT_TRUE(ex);
  CalibrationDataset data = random_dataset(tiny_inputs(), 5, 3);
  CollectOptions opts;
  opts.kind = ObserverKind::kMinMax;
  opts.skip = {2};
  std::vector<size_t> seen;
  opts.on_sample = [&](size_t i, const std::vector<std::string>& names, const std::vector<Tensor>& v) {
    seen.push_back(i);
    EXPECT_EQ(names, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(v.size(), 2u);
    return Status::Ok();
  };
  Statistics st;
  ASSERT_TRUE(collect_statistics(*ex, data, {"x", "y"}, opts, &st).ok());
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 3, 4}));
  opts.on_sample = [](size_t, const std::vector<std::string>&, const std::vector<Tensor>&) {
    return invalid_argument("stop");
  };
  Status s = collect_statistics(*ex, data, {"x"}, opts, &st);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("calibration sample 0"), std::string::npos) << s.message();
}

TEST(CalibDriver, RunsOnANpyFolder) {
  test::TempDir tmp;
  std::string dir = tmp.sub("x");
  for (int i = 0; i < 3; ++i) {
    std::vector<float> v(18);
    for (int k = 0; k < 18; ++k) v[k] = static_cast<float>((k - 9) * (i + 1));
    ASSERT_TRUE(write_npy(dir + "/" + std::to_string(i) + ".npy", Tensor::from_vector<float>(v, {2, 3, 3})).ok());
  }
  CalibrationDataset data;
  ASSERT_TRUE(CalibrationDataset::open(tiny_inputs(), {dir}, "", &data).ok());
  auto ex = make_exec(1);
  Statistics st;
  ASSERT_TRUE(collect_statistics(*ex, data, {"m", "y"}, ObserverKind::kHistogram, &st).ok());
  // Sample 2 holds (k - 9) * 3: channel 0 (k < 9) times 2 gives min -54; channel 1 times -3 gives max 0 and
  // min -3 * 8 * 3 = -72.
  EXPECT_EQ(st.find("m")->minmax.min(), -72.f);
  EXPECT_EQ(st.find("m")->minmax.max(), 0.f);
  EXPECT_EQ(st.find("y")->minmax.max(), 0.f);
  EXPECT_EQ(st.find("y")->hist->zero_count(), 3u * 18u);
}

TEST(CalibDriver, SameBitsWhateverTheThreadCount) {
  Statistics a, b;
  auto e1 = make_exec(1), e2 = make_exec(2);
  CalibrationDataset d1 = random_dataset(tiny_inputs(), 4, 1), d2 = random_dataset(tiny_inputs(), 4, 1);
  ASSERT_TRUE(collect_statistics(*e1, d1, {}, ObserverKind::kHistogram, &a).ok());
  ASSERT_TRUE(collect_statistics(*e2, d2, {}, ObserverKind::kHistogram, &b).ok());
  ASSERT_EQ(a.tensors.size(), 3u);  // x, m, y (all float values)
  ASSERT_EQ(b.tensors.size(), a.tensors.size());
  for (size_t k = 0; k < a.tensors.size(); ++k) {
    EXPECT_EQ(a.tensors[k].name, b.tensors[k].name);
    EXPECT_EQ(a.tensors[k].hist->bins(), b.tensors[k].hist->bins());
    EXPECT_EQ(a.tensors[k].minmax.max(), b.tensors[k].minmax.max());
  }
}

TEST(CalibDriver, ErrorsNameTheProblem) {
  auto ex = make_exec(1);
  CalibrationDataset data = random_dataset(tiny_inputs(), 2, 1);
  Statistics st;
  Status s = collect_statistics(*ex, data, {"m", "nope"}, ObserverKind::kMinMax, &st);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'nope'"), std::string::npos) << s.message();
  CalibrationDataset empty = random_dataset(tiny_inputs(), 0, 1);
  EXPECT_FALSE(collect_statistics(*ex, empty, {"m"}, ObserverKind::kMinMax, &st).ok());
  // A dataset with the wrong shape for the model: the failing sample is named.
  CalibrationDataset wrong = random_dataset({InputSpec{"x", DType::kF32, {1, 2, 4, 4}}}, 1, 1);
  s = collect_statistics(*ex, wrong, {"m"}, ObserverKind::kMinMax, &st);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sample 0"), std::string::npos) << s.message();
  // Histogram methods on min/max statistics are refused.
  ASSERT_TRUE(collect_statistics(*ex, data, {"m"}, ObserverKind::kMinMax, &st).ok());
  SelectOptions so;
  so.method = RangeMethod::kKl;
  CalibrationTable t;
  s = make_calibration_table(st, so, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'m'"), std::string::npos) << s.message();
}

TEST(CalibArtifact, RoundTripIsExactAndFingerprintTracksTheGraph) {
  test::TempDir tmp;
  CalibrationTable t;
  ir::Model m = tiny_model();
  t.fingerprint = graph_fingerprint(m.graph);
  t.calibration_type = "kl";
  t.num_samples = 7;
  CalibrationEntry e;
  e.min = -0.1f;
  e.max = 3.14159274f;
  e.threshold = 3.14159274f;
  e.method = "kl";
  t.tensors["m"] = e;
  e.channel_axis = 1;
  e.channel_min = {-1e-30f, 0.3f};
  e.channel_max = {1.f / 3.f, 7e20f};
  t.tensors["weird \"name\"/x"] = e;
  const std::string path = tmp.path() + "/calib.json";
  ASSERT_TRUE(save_calibration(path, t).ok());
  CalibrationTable r;
  Status s = load_calibration(path, &r);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(r.fingerprint, t.fingerprint);
  EXPECT_EQ(r.calibration_type, "kl");
  EXPECT_EQ(r.num_samples, 7u);
  ASSERT_EQ(r.tensors.size(), 2u);
  EXPECT_EQ(r.tensors["m"].min, -0.1f);
  EXPECT_EQ(r.tensors["m"].max, 3.14159274f);
  EXPECT_EQ(r.tensors["m"].method, "kl");
  const CalibrationEntry& w = r.tensors["weird \"name\"/x"];
  EXPECT_EQ(w.channel_axis, 1);
  EXPECT_EQ(w.channel_min, e.channel_min);
  EXPECT_EQ(w.channel_max, e.channel_max);
  EXPECT_TRUE(check_fingerprint(r, m.graph).ok());

  // Renaming a node or changing an op changes the fingerprint.
  ir::Model m2 = tiny_model();
  m2.graph.nodes[1].op_type = "Sigmoid";
  ir::Model m3 = tiny_model();
  m3.graph.nodes[0].name = "mul_renamed";
  EXPECT_NE(graph_fingerprint(m2.graph), t.fingerprint);
  EXPECT_NE(graph_fingerprint(m3.graph), t.fingerprint);
  EXPECT_EQ(graph_fingerprint(tiny_model().graph), t.fingerprint);
  s = check_fingerprint(r, m2.graph, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("calib.json"), std::string::npos);

  // Non-finite ranges are not written.
  t.tensors["m"].max = INFINITY;
  s = save_calibration(tmp.path() + "/bad.json", t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'m'"), std::string::npos);
}

TEST(CalibArtifact, BadFilesGiveClearErrors) {
  test::TempDir tmp;
  auto write = [&](const std::string& name, const std::string& text) {
    std::string p = tmp.path() + "/" + name;
    EXPECT_TRUE(write_file_atomic(p, text).ok());
    return p;
  };
  CalibrationTable t;
  Status s = load_calibration(write("a.json", "{not json"), &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("a.json"), std::string::npos);
  s = load_calibration(write("b.json", R"({"format":"kaiwu-calibration","version":1,"tensors":{"t1":{"min":0}}})"), &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'t1'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'max'"), std::string::npos) << s.message();
  s = load_calibration(write("c.json", R"({"format":"other","version":1,"tensors":{}})"), &t);
  EXPECT_FALSE(s.ok());
  s = load_calibration(write("e.json", R"({"format":7,"version":"1","tensors":[]})"), &t);
  EXPECT_FALSE(s.ok());
  s = load_calibration(
      write("f.json", R"({"format":"kaiwu-calibration","version":1,"tensors":{"t":{"min":"0","max":1,"threshold":1}}})"),
      &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'min'"), std::string::npos) << s.message();
  s = load_calibration(write("g.json", R"([1, 2])"), &t);
  EXPECT_FALSE(s.ok());
  s = load_calibration(
      write("d.json", R"({"format":"kaiwu-calibration","version":1,"tensors":{"t":{"min":2,"max":1,"threshold":2}}})"),
      &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("min > max"), std::string::npos);
  EXPECT_FALSE(load_calibration(tmp.path() + "/missing.json", &t).ok());
}

}  // namespace
}  // namespace kaiwu::calib
