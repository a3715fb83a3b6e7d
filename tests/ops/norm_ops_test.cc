// BatchNormalization, InstanceNormalization and LayerNormalization through the registry: values against direct
// double-precision computations, opset variants (spatial=0 in opset 7, training_mode in 14/15), constant and fed
// parameters, optional outputs, and clear errors.
#include <cmath>

#include "nn_test_util.h"

namespace kaiwu {
namespace {

using namespace nntest;

// Expected inference batch norm of x [N, C, inner].
std::vector<float> bn_expected(const Tensor& x, const Tensor& s, const Tensor& b, const Tensor& m, const Tensor& v,
                               float eps) {
  const int64_t n = x.dim(0), c = x.dim(1), inner = x.numel() / (n * c);
  std::vector<float> y(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t ch = (i / inner) % c;
    y[i] = static_cast<float>((x.data<float>()[i] - m.data<float>()[ch]) / std::sqrt(v.data<float>()[ch] + double(eps)) *
                                  s.data<float>()[ch] + b.data<float>()[ch]);
  }
  return y;
}

TEST(BatchNormOp, InferenceAcrossOpsetsAndParameterKinds) {
  Tensor x = test::random_f32({2, 3, 4, 5}, 1);
  Tensor s = test::random_f32({3}, 2), b = test::random_f32({3}, 3), m = test::random_f32({3}, 4);
  Tensor v = test::random_f32({3}, 5, 0.1f, 2.f);
  const std::vector<float> want = bn_expected(x, s, b, m, v, 1e-3f);
  for (int64_t opset : {7, 9, 14, 15})
    for (bool consts : {true, false}) {
      SCOPED_TRACE("opset " + std::to_string(opset) + (consts ? " constant" : " fed"));
      auto p = [&](const Tensor& t) { return consts ? konst(t) : fed(t); };
      auto y = run_both("BatchNormalization", opset, {fed(x), p(s), p(b), p(m), p(v)}, {{"epsilon", af(1e-3f)}});
      expect_values(y[0], want, x.shape(), 1e-5);
    }
  // Rank 2 ([N, C]) and rank 3 inputs.
  Tensor x2 = test::random_f32({4, 3}, 6);
  expect_values(run_both("BatchNormalization", 15, {fed(x2), konst(s), konst(b), konst(m), konst(v)})[0],
                bn_expected(x2, s, b, m, v, 1e-5f), x2.shape());
}

TEST(BatchNormOp, SpatialZeroUsesPerActivationStatistics) {
  // Opset 7, spatial=0: statistics of shape [C, H, W] (here C*H*W = 6).
  Tensor x = test::random_f32({2, 2, 1, 3}, 7);
  Tensor s = test::random_f32({2, 1, 3}, 8), b = test::random_f32({2, 1, 3}, 9), m = test::random_f32({2, 1, 3}, 10);
  Tensor v = test::random_f32({2, 1, 3}, 11, 0.5f, 1.f);
  auto y = run_both("BatchNormalization", 7, {fed(x), konst(s), konst(b), konst(m), konst(v)}, {{"spatial", ai(0)}});
  Tensor xr = x.reshaped({2, 6}), sr = s.reshaped({6}), br = b.reshaped({6}), mr = m.reshaped({6}), vr = v.reshaped({6});
  expect_values(y[0], bn_expected(xr, sr, br, mr, vr, 1e-5f), x.shape());
}

TEST(BatchNormOp, TrainingModeReturnsRunningStatistics) {
  Tensor x = test::random_f32({2, 3, 2, 2}, 12);
  Tensor s = test::random_f32({3}, 13), b = test::random_f32({3}, 14), m = test::random_f32({3}, 15);
  Tensor v = test::random_f32({3}, 16, 0.5f, 1.f);
  RunOpts o;
  o.outputs = 3;
  auto y = run_both("BatchNormalization", 15, {fed(x), fed(s), fed(b), fed(m), fed(v)},
                    {{"training_mode", ai(1)}, {"momentum", af(0.8f)}}, 1e-5, 1e-5, o);
  ASSERT_EQ(y.size(), 3u);
  // Batch statistics per channel.
  Tensor bm = Tensor::empty(DType::kF32, {3}), bv = Tensor::empty(DType::kF32, {3});
  std::vector<float> run_m(3), run_v(3);
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 4; ++i) sum += x.data<float>()[(n * 3 + c) * 4 + i];
    double mean = sum / 8;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 4; ++i) sq += std::pow(x.data<float>()[(n * 3 + c) * 4 + i] - mean, 2);
    bm.data<float>()[c] = static_cast<float>(mean);
    bv.data<float>()[c] = static_cast<float>(sq / 8);
    run_m[c] = m.data<float>()[c] * 0.8f + bm.data<float>()[c] * 0.2f;
    run_v[c] = v.data<float>()[c] * 0.8f + bv.data<float>()[c] * 0.2f;
  }
  expect_values(y[0], bn_expected(x, s, b, bm, bv, 1e-5f), x.shape());
  expect_values(y[1], run_m, {3});
  expect_values(y[2], run_v, {3});
}

TEST(BatchNormOp, ErrorsNameTheProblem) {
  Tensor x = iota({1, 3, 2, 2}), p3 = f32({1, 1, 1}, {3});
  EXPECT_NE(run_error("BatchNormalization", 9, {fed(x), fed(p3), fed(p3), fed(f32({0, 0}, {2})), fed(p3)})
                .find("input_mean"),
            std::string::npos);
  RunOpts o;
  o.outputs = 3;
  EXPECT_NE(run_error("BatchNormalization", 9, {fed(x), fed(p3), fed(p3), fed(p3), fed(p3)}, {}, o)
                .find("training output"),
            std::string::npos);
  EXPECT_NE(run_error("BatchNormalization", 15, {fed(x), fed(p3)}).find("5 inputs"), std::string::npos);
}

TEST(InstanceNormOp, NormalizesEachPlane) {
  Tensor x = test::random_f32({2, 3, 4, 5}, 20);
  Tensor s = test::random_f32({3}, 21), b = test::random_f32({3}, 22);
  auto y = run_both("InstanceNormalization", 6, {fed(x), konst(s), konst(b)}, {{"epsilon", af(1e-2f)}});
  std::vector<float> want(x.numel());
  for (int p = 0; p < 6; ++p) {
    const float* xp = x.data<float>() + p * 20;
    double mean = 0, var = 0;
    for (int i = 0; i < 20; ++i) mean += xp[i] / 20.0;
    for (int i = 0; i < 20; ++i) var += (xp[i] - mean) * (xp[i] - mean) / 20.0;
    for (int i = 0; i < 20; ++i)
      want[p * 20 + i] = static_cast<float>((xp[i] - mean) / std::sqrt(var + 1e-2) * s.data<float>()[p % 3] +
                                            b.data<float>()[p % 3]);
  }
  expect_values(y[0], want, x.shape());
  EXPECT_NE(run_error("InstanceNormalization", 6, {fed(x), fed(f32({1, 2}, {2})), fed(b)}).find("scale"),
            std::string::npos);
}

// Expected layer norm of x viewed as [rows, cols] with per-column scale/bias.
void ln_expected(const Tensor& x, int64_t cols, const std::vector<float>& s, const std::vector<float>& b,
                 std::vector<float>* y, std::vector<float>* mean, std::vector<float>* inv) {
  const int64_t rows = x.numel() / cols;
  y->assign(x.numel(), 0);
  mean->assign(rows, 0);
  inv->assign(rows, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data<float>() + r * cols;
    double m = 0, v = 0;
    for (int64_t j = 0; j < cols; ++j) m += xr[j] / double(cols);
    for (int64_t j = 0; j < cols; ++j) v += (xr[j] - m) * (xr[j] - m) / double(cols);
    double is = 1 / std::sqrt(v + 1e-5);
    for (int64_t j = 0; j < cols; ++j) (*y)[r * cols + j] = static_cast<float>((xr[j] - m) * is * s[j] + (b.empty() ? 0 : b[j]));
    (*mean)[r] = static_cast<float>(m);
    (*inv)[r] = static_cast<float>(is);
  }
}

TEST(LayerNormOp, AxesOutputsAndBroadcastScale) {
  Tensor x = test::random_f32({2, 3, 4}, 30);
  RunOpts o;
  o.outputs = 3;
  for (int64_t axis : {-1, 1, 0, -2}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const int64_t a = axis < 0 ? axis + 3 : axis;
    Shape ns(x.shape().begin() + a, x.shape().end());
    const int64_t cols = shape_numel(ns);
    Tensor s = test::random_f32(ns, 31), b = test::random_f32(ns, 32);
    auto y = run_both("LayerNormalization", 17, {fed(x), konst(s), fed(b)}, {{"axis", ai(axis)}}, 1e-5, 1e-5, o);
    std::vector<float> want, mean, inv;
    ln_expected(x, cols, std::vector<float>(s.data<float>(), s.data<float>() + cols),
                std::vector<float>(b.data<float>(), b.data<float>() + cols), &want, &mean, &inv);
    Shape stat(x.shape().begin(), x.shape().begin() + a);
    stat.resize(3, 1);
    expect_values(y[0], want, x.shape());
    expect_values(y[1], mean, stat);
    expect_values(y[2], inv, stat);
  }
  // No bias, scale broadcast from [4] over the normalized shape [3, 4]; only InvStdDev requested.
  Tensor s4 = f32({1, 2, 3, 4}, {4});
  std::vector<float> s12;
  for (int i = 0; i < 12; ++i) s12.push_back(s4.data<float>()[i % 4]);
  std::vector<float> want, mean, inv;
  ln_expected(x, 12, s12, {}, &want, &mean, &inv);
  RunOpts o2;
  o2.outputs = 3;
  o2.omitted_outputs = {1};
  auto y = run_both("LayerNormalization", 17, {fed(x), konst(s4)}, {{"axis", ai(1)}}, 1e-5, 1e-5, o2);
  ASSERT_EQ(y.size(), 2u);
  expect_values(y[0], want, x.shape());
  expect_values(y[1], inv, {2, 1, 1});
}

TEST(LayerNormOp, ErrorsNameTheProblem) {
  Tensor x = iota({2, 3, 4});
  EXPECT_NE(run_error("LayerNormalization", 17, {fed(x), fed(iota({3}))}).find("does not broadcast"), std::string::npos);
  EXPECT_NE(run_error("LayerNormalization", 17, {fed(x), fed(iota({4}))}, {{"axis", ai(3)}}).find("axis"),
            std::string::npos);
}

}  // namespace
}  // namespace kaiwu
