// Op tests of the int16 integer ops of the fixed-point model, through GraphExecutor: QLinearConv / kaiwu.QLinearConv
// (NCHW and NHWC) with int16 x and / or y (int8 per-channel weights, int32 bias), and kaiwu.QLut with an int16 X
// (65536-entry tables). Every kernel (reference, optimized, 1 and 2 threads) must equal a direct evaluation of the
// documented formula: acc = bias + sum (x - x_zp) * w in int64, y = sat(rne((double)acc * (double)M) + y_zp),
// M = x_scale * w_scale[m] / y_scale in float.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <cstring>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace kaiwu {
namespace {

using optest::fed;
using optest::In;
using optest::konst;
using Attrs = optest::Attrs;

Status run_node(const std::string& domain, const std::string& op, const std::vector<In>& ins, const Attrs& attrs,
                bool reference_only, int threads, Tensor* out) {
  ir::Model m;
  m.opsets[""] = 17;
  m.opsets["kaiwu"] = 1;
  ir::Node n;
  n.name = "qnode";
  n.op_type = op;
  n.domain = domain;
  n.attrs = attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < ins.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    n.inputs.push_back(name);
    if (ins[i].constant) {
      m.graph.initializers[name] = ins[i].t;
    } else {
      ir::ValueInfo v;
      v.name = name;
      v.dtype = ins[i].t.dtype();
      m.graph.inputs.push_back(v);
      feeds.emplace_back(name, ins[i].t);
    }
  }
  n.outputs = {"y"};
  ir::ValueInfo vo;
  vo.name = "y";
  m.graph.outputs.push_back(vo);
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{threads, reference_only}, &ex));
  std::vector<Tensor> outs;
  KW_RETURN_IF_ERROR(ex->run(feeds, {"y"}, &outs));
  *out = outs[0];
  return Status::Ok();
}

Tensor random_int(DType t, const Shape& s, std::mt19937& rng) {
  Tensor r = Tensor::empty(t, s);
  std::uniform_int_distribution<int> d(t == DType::kI16 ? -32768 : (t == DType::kU8 ? 0 : -128),
                                       t == DType::kI16 ? 32767 : (t == DType::kU8 ? 255 : 127));
  for (int64_t i = 0; i < r.numel(); ++i) {
    const int v = d(rng);
    if (t == DType::kI16) r.data<int16_t>()[i] = static_cast<int16_t>(v);
    else if (t == DType::kU8) r.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else r.data<int8_t>()[i] = static_cast<int8_t>(v);
  }
  return r;
}

Tensor scalar_of(DType t, int32_t v) {
  if (t == DType::kI16) return Tensor::from_vector<int16_t>({static_cast<int16_t>(v)});
  if (t == DType::kU8) return Tensor::from_vector<uint8_t>({static_cast<uint8_t>(v)});
  return Tensor::from_vector<int8_t>({static_cast<int8_t>(v)});
}

// [N, C, H, W] <-> [N, H, W, C].
Tensor permute(const Tensor& t, bool to_nhwc) {
  const Shape& s = t.shape();
  const int64_t n = s[0], c = to_nhwc ? s[1] : s[3], h = to_nhwc ? s[2] : s[1], w = to_nhwc ? s[3] : s[2];
  Tensor r = Tensor::empty(t.dtype(), to_nhwc ? Shape{n, h, w, c} : Shape{n, c, h, w});
  const size_t es = dtype_size(t.dtype());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i = 0; i < h * w; ++i) {
        const int64_t nchw = (b * c + ci) * h * w + i, nhwc = (b * h * w + i) * c + ci;
        std::memcpy(static_cast<uint8_t*>(r.raw()) + (to_nhwc ? nhwc : nchw) * es,
                    static_cast<const uint8_t*>(t.raw()) + (to_nhwc ? nchw : nhwc) * es, es);
      }
  return r;
}

struct Conv2d {
  int64_t n, c, h, w, m, k, stride, pad, group;
};

// Direct evaluation of the documented formula (NCHW).
Tensor expected(const Conv2d& p, const Tensor& x, int32_t xz, const Tensor& w, const Tensor& bias, float xs,
                const std::vector<float>& ws, float ys, DType yt, int32_t yz) {
  const int64_t oh = (p.h + 2 * p.pad - p.k) / p.stride + 1, ow = (p.w + 2 * p.pad - p.k) / p.stride + 1;
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  Tensor y = Tensor::empty(yt, {p.n, p.m, oh, ow});
  int64_t o = 0;
  const double lo = yt == DType::kI16 ? -32768 : (yt == DType::kU8 ? 0 : -128);
  const double hi = yt == DType::kI16 ? 32767 : (yt == DType::kU8 ? 255 : 127);
  for (int64_t b = 0; b < p.n; ++b)
    for (int64_t m = 0; m < p.m; ++m) {
      const float mult = xs * ws[m] / ys;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j, ++o) {
          int64_t acc = bias.data<int32_t>()[m];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ki = 0; ki < p.k; ++ki)
              for (int64_t kj = 0; kj < p.k; ++kj) {
                const int64_t ii = i * p.stride - p.pad + ki, jj = j * p.stride - p.pad + kj;
                if (ii < 0 || ii >= p.h || jj < 0 || jj >= p.w) continue;
                const int64_t ci = (m / mg) * cg + c;
                acc += (x.get_i64(((b * p.c + ci) * p.h + ii) * p.w + jj) - xz) *
                       w.get_i64(((m * cg + c) * p.k + ki) * p.k + kj);
              }
          const double r = std::min(hi, std::max(lo, std::nearbyint(double(acc) * double(mult)) + yz));
          if (yt == DType::kI16) y.data<int16_t>()[o] = static_cast<int16_t>(r);
          else if (yt == DType::kU8) y.data<uint8_t>()[o] = static_cast<uint8_t>(r);
          else y.data<int8_t>()[o] = static_cast<int8_t>(r);
        }
    }
  return y;
}

TEST(QLinearConvInt16, AllKernelsMatchTheFormula) {
  struct TypeCase {
    DType xt, yt;
    int32_t xz, yz;
  };
  const TypeCase types[] = {{DType::kI16, DType::kI16, 0, 0},   {DType::kI8, DType::kI16, -128, 0},
                            {DType::kU8, DType::kI16, 7, 0},    {DType::kI16, DType::kI8, 0, -128},
                            {DType::kI16, DType::kU8, 0, 3},    {DType::kI16, DType::kI16, 5, -2}};
  const Conv2d shapes[] = {{1, 16, 9, 11, 24, 3, 1, 1, 1}, {2, 12, 8, 7, 12, 3, 2, 1, 12}, {1, 96, 5, 5, 7, 3, 1, 0, 1},
                           {1, 8, 6, 6, 10, 1, 1, 0, 2}, {1, 41, 6, 5, 33, 1, 1, 0, 1}};
  std::mt19937 rng(77);
  int variant = 0;
  for (const TypeCase& tc : types)
    for (const Conv2d& p : shapes) {
      ++variant;
      SCOPED_TRACE(std::string(dtype_name(tc.xt)) + "->" + dtype_name(tc.yt) + " case " + std::to_string(variant));
      Tensor x = random_int(tc.xt, {p.n, p.c, p.h, p.w}, rng);
      Tensor w = random_int(DType::kI8, {p.m, p.c / p.group, p.k, p.k}, rng);
      Tensor bias = Tensor::empty(DType::kI32, {p.m});
      std::vector<float> ws(p.m);
      std::uniform_real_distribution<float> du(0.5f, 2.f);
      for (int64_t i = 0; i < p.m; ++i) {
        bias.data<int32_t>()[i] = std::uniform_int_distribution<int>(-300000, 300000)(rng);
        ws[i] = du(rng) * 0.01f;
      }
      const float xs = tc.xt == DType::kI16 ? 1e-3f : 0.05f;
      const double window = double(p.c / p.group * p.k * p.k);
      const double out_range = tc.yt == DType::kI16 ? 20000.0 : 100.0;
      const double in_mag = tc.xt == DType::kI16 ? 18000.0 : 70.0;
      const float ys = static_cast<float>(xs * 0.01 * in_mag * 70.0 * std::sqrt(window) / out_range);
      const Tensor want = expected(p, x, tc.xz, w, bias, xs, ws, ys, tc.yt, tc.yz);
      Attrs a = {{"pads", optest::ais({p.pad, p.pad, p.pad, p.pad})},
                 {"strides", optest::ais({p.stride, p.stride})},
                 {"group", optest::ai(p.group)}};
      for (bool nhwc : {false, true})
        for (bool const_w : {true, false})
          for (bool ref : {true, false})
            for (int threads : {1, 2}) {
              Attrs aa = a;
              if (nhwc) aa["layout"] = optest::as("NHWC");
              auto wt = const_w ? konst(w) : fed(w);
              std::vector<In> ins = {fed(nhwc ? permute(x, true) : x), konst(Tensor::from_vector<float>({xs})),
                                     konst(scalar_of(tc.xt, tc.xz)), wt,
                                     konst(Tensor::from_vector<float>(ws, {p.m})),
                                     konst(Tensor::zeros(DType::kI8, {p.m})), konst(Tensor::from_vector<float>({ys})),
                                     konst(scalar_of(tc.yt, tc.yz)), konst(bias)};
              Tensor y;
              Status st = run_node(nhwc ? "kaiwu" : "", "QLinearConv", ins, aa, ref, threads, &y);
              ASSERT_TRUE(st.ok()) << st.to_string();
              if (nhwc) y = permute(y, false);
              ASSERT_EQ(y.dtype(), want.dtype());
              ASSERT_EQ(y.shape(), want.shape());
              int64_t diff = 0;
              for (int64_t i = 0; i < y.numel(); ++i) diff += y.get_i64(i) != want.get_i64(i);
              EXPECT_EQ(diff, 0) << "nhwc " << nhwc << " const_w " << const_w << " ref " << ref << " threads "
                                 << threads;
              if (!nhwc) continue;
              // kaiwu.QLinearConv's y_min / y_max (a fused Relu / Clip): the same outputs, clamped.
              const int64_t lo = tc.yt == DType::kI16 ? -100 : (tc.yt == DType::kU8 ? 20 : -50);
              const int64_t hi = tc.yt == DType::kI16 ? 5000 : (tc.yt == DType::kU8 ? 200 : 60);
              aa["y_min"] = optest::ai(lo);
              aa["y_max"] = optest::ai(hi);
              st = run_node("kaiwu", "QLinearConv", ins, aa, ref, threads, &y);
              ASSERT_TRUE(st.ok()) << st.to_string();
              y = permute(y, false);
              int64_t cdiff = 0, clamped = 0;
              for (int64_t i = 0; i < y.numel(); ++i) {
                const int64_t v = want.get_i64(i), c = std::min(std::max(v, lo), hi);
                cdiff += y.get_i64(i) != c;
                clamped += c != v;
              }
              EXPECT_EQ(cdiff, 0) << "clamped, const_w " << const_w << " ref " << ref << " threads " << threads;
              EXPECT_GT(clamped, 0);
            }
    }
}

TEST(QLinearConvInt16, RejectsInt16Weights) {
  std::mt19937 rng(1);
  Tensor x = random_int(DType::kI16, {1, 2, 4, 4}, rng);
  std::vector<In> ins = {fed(x), konst(Tensor::from_vector<float>({1.f})), konst(scalar_of(DType::kI16, 0)),
                         konst(random_int(DType::kI16, {2, 2, 1, 1}, rng)), konst(Tensor::from_vector<float>({1.f})),
                         konst(Tensor::from_vector<int16_t>({0})), konst(Tensor::from_vector<float>({1.f})),
                         konst(scalar_of(DType::kI16, 0))};
  Tensor y;
  Status st = run_node("", "QLinearConv", ins, {}, true, 1, &y);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("int16"), std::string::npos) << st.to_string();
  // y_min / y_max: kaiwu.QLinearConv only, and ordered.
  ins[3] = konst(random_int(DType::kI8, {2, 2, 1, 1}, rng));
  ins[5] = konst(Tensor::zeros(DType::kI8, {2}));
  st = run_node("", "QLinearConv", ins, {{"y_min", optest::ai(0)}}, true, 1, &y);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("kaiwu.QLinearConv only"), std::string::npos) << st.to_string();
  st = run_node("kaiwu", "QLinearConv", ins, {{"y_min", optest::ai(5)}, {"y_max", optest::ai(4)}}, true, 1, &y);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("y_min > y_max"), std::string::npos) << st.to_string();
  ASSERT_TRUE(run_node("kaiwu", "QLinearConv", ins, {{"y_min", optest::ai(0)}}, true, 1, &y).ok());
}

TEST(QLutInt16, WideTablesMatchIndexing) {
  std::mt19937 rng(5);
  Tensor x = random_int(DType::kI16, {3, 1001}, rng);
  x.data<int16_t>()[0] = -32768;
  x.data<int16_t>()[1] = 32767;
  for (DType yt : {DType::kI16, DType::kI8, DType::kU8}) {
    SCOPED_TRACE(dtype_name(yt));
    Tensor table = random_int(yt, {65536}, rng);
    for (bool ref : {true, false})
      for (int threads : {1, 2}) {
        Tensor y;
        Status st = run_node("kaiwu", "QLut", {fed(x), konst(table)}, {}, ref, threads, &y);
        ASSERT_TRUE(st.ok()) << st.to_string();
        ASSERT_EQ(y.dtype(), yt);
        for (int64_t i = 0; i < x.numel(); ++i)
          ASSERT_EQ(y.get_i64(i), table.get_i64(x.data<int16_t>()[i] + 32768)) << i;
      }
  }
  // int8 X with an int16 table (256 entries).
  Tensor x8 = random_int(DType::kI8, {777}, rng);
  Tensor t16 = random_int(DType::kI16, {256}, rng);
  for (bool ref : {true, false}) {
    Tensor y;
    ASSERT_TRUE(run_node("kaiwu", "QLut", {fed(x8), konst(t16)}, {}, ref, 2, &y).ok());
    for (int64_t i = 0; i < x8.numel(); ++i) ASSERT_EQ(y.get_i64(i), t16.get_i64(x8.data<int8_t>()[i] + 128));
  }
  // A 256-entry table for an int16 X is an error that names the expected size.
  Tensor y;
  Status st = run_node("kaiwu", "QLut", {fed(x), konst(random_int(DType::kI16, {256}, rng))}, {}, true, 1, &y);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("65536"), std::string::npos) << st.to_string();
}

// Timing through GraphExecutor of a ResNet-like int16 layer (1x64x56x56, 3x3, 64 outputs, pad 1; int16 in and out)
// with the reference and the optimized kernels, 1 thread. Disabled by default (--gtest_also_run_disabled_tests).
TEST(QLinearConvInt16, DISABLED_SpeedResnetLayer) {
  std::mt19937 rng(3);
  Tensor x = random_int(DType::kI16, {1, 64, 56, 56}, rng);
  Tensor w = random_int(DType::kI8, {64, 64, 3, 3}, rng);
  Tensor bias = Tensor::zeros(DType::kI32, {64});
  std::vector<float> ws(64, 0.01f);
  for (bool nhwc : {false, true}) {
    Attrs a = {{"pads", optest::ais({1, 1, 1, 1})}};
    if (nhwc) a["layout"] = optest::as("NHWC");
    std::vector<In> ins = {fed(nhwc ? permute(x, true) : x), konst(Tensor::from_vector<float>({1e-3f})),
                           konst(scalar_of(DType::kI16, 0)), konst(w), konst(Tensor::from_vector<float>(ws, {64})),
                           konst(Tensor::zeros(DType::kI8, {64})), konst(Tensor::from_vector<float>({0.5f})),
                           konst(scalar_of(DType::kI16, 0)), konst(bias)};
    Tensor y_ref, y_fast;
    double ms[2] = {0, 0};
    for (int ref = 1; ref >= 0; --ref) {
      double best = 1e30;
      for (int rep = 0; rep < (ref ? 1 : 5); ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(run_node(nhwc ? "kaiwu" : "", "QLinearConv", ins, a, ref, 1, ref ? &y_ref : &y_fast).ok());
        best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      ms[ref] = best;
    }
    EXPECT_EQ(std::memcmp(y_ref.raw(), y_fast.raw(), y_ref.nbytes()), 0);
    std::cout << "int16 QLinearConv 1x64x56x56 3x3x64 " << (nhwc ? "NHWC" : "NCHW") << ", 1 thread, model create + run: "
              << "reference " << ms[1] << " ms, optimized " << ms[0] << " ms\n";
  }
}

}  // namespace
}  // namespace kaiwu
