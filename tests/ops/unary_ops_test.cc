// Unary elementwise ops through the registry: values, attributes, dtypes, Clip across opsets, PRelu.
#include <cmath>
#include <limits>

#include "core/half.h"
#include "elem_test_util.h"

namespace kaiwu {
namespace {

using namespace elemtest;

const std::vector<float> kX = {-3.f, -1.5f, -0.25f, 0.f, 0.5f, 1.f, 2.5f, 7.f};

std::vector<float> map(float (*f)(float)) {
  std::vector<float> r;
  for (float v : kX) r.push_back(f(v));
  return r;
}

TEST(UnaryOps, FloatFunctionsMatchFormulas) {
  Tensor x = f32(kX, {2, 4});
  struct Case {
    const char* op;
    float (*f)(float);
  };
  const Case cases[] = {
      {"Relu", [](float v) { return v > 0 ? v : 0.f; }},
      {"Sigmoid", [](float v) { return 1.f / (1.f + std::exp(-v)); }},
      {"Tanh", [](float v) { return std::tanh(v); }},
      {"Erf", [](float v) { return std::erf(v); }},
      {"Exp", [](float v) { return std::exp(v); }},
      {"Neg", [](float v) { return -v; }},
      {"Abs", [](float v) { return std::fabs(v); }},
      {"HardSwish", [](float v) { return v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f)); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    expect_near(run_both(c.op, 14, {fed(x)}), map(c.f), {2, 4}, 1e-6);
  }
  Tensor pos = f32({0.25f, 1.f, 4.f, 9.f}, {4});
  expect_near(run_both("Sqrt", 13, {fed(pos)}), {0.5f, 1.f, 2.f, 3.f}, {4});
  expect_near(run_both("Log", 13, {fed(pos)}), {std::log(0.25f), 0.f, std::log(4.f), std::log(9.f)}, {4});
  expect_near(run_both("Reciprocal", 13, {fed(pos)}), {4.f, 1.f, 0.25f, 1.f / 9.f}, {4});
}

TEST(UnaryOps, AttributesAndDefaults) {
  Tensor x = f32({-2.f, -0.5f, 0.5f, 4.f}, {4});
  expect_near(run_both("LeakyRelu", 16, {fed(x)}), {-0.02f, -0.005f, 0.5f, 4.f}, {4});
  expect_near(run_both("LeakyRelu", 16, {fed(x)}, {{"alpha", af(0.5f)}}), {-1.f, -0.25f, 0.5f, 4.f}, {4});
  expect_near(run_both("HardSigmoid", 6, {fed(x)}), {0.1f, 0.4f, 0.6f, 1.f}, {4});
  expect_near(run_both("HardSigmoid", 6, {fed(x)}, {{"alpha", af(0.5f)}, {"beta", af(0.f)}}), {0.f, 0.f, 0.25f, 1.f},
              {4});
}

TEST(UnaryOps, LongTensorsUseAllChunks) {
  // Longer than one parallel chunk, with a tail: every element must be written by the optimized kernel.
  Tensor x = test::random_f32({3, 33335}, 7, -8.f, 8.f);
  for (const char* op : {"Sigmoid", "Tanh", "Erf", "Exp", "Relu", "HardSwish"}) {
    SCOPED_TRACE(op);
    run_both(op, 14, {fed(x)});
  }
}

TEST(UnaryOps, IntegerAndHalfTypes) {
  Tensor xi = tensor<int32_t>({-5, 0, 7, std::numeric_limits<int32_t>::min()}, {4});
  EXPECT_EQ(values<int32_t>(run_both("Relu", 14, {fed(xi)})), (std::vector<int32_t>{0, 0, 7, 0}));
  EXPECT_EQ(values<int32_t>(run_both("Neg", 13, {fed(xi)})),
            (std::vector<int32_t>{5, 0, -7, std::numeric_limits<int32_t>::min()}));  // wraps like numpy
  EXPECT_EQ(values<int32_t>(run_both("Abs", 13, {fed(xi)})),
            (std::vector<int32_t>{5, 0, 7, std::numeric_limits<int32_t>::min()}));
  Tensor xu = tensor<uint8_t>({0, 200}, {2});
  EXPECT_EQ(values<uint8_t>(run_both("Abs", 13, {fed(xu)})), (std::vector<uint8_t>{0, 200}));
  Tensor h = tensor<uint16_t>({float_to_half(-1.f), float_to_half(0.5f)}, {2});
  h = Tensor::view(DType::kF16, {2}, h.raw()).clone();
  Tensor y = run_both("Sigmoid", 13, {fed(h)});
  ASSERT_EQ(y.dtype(), DType::kF16);
  EXPECT_EQ(y.data<uint16_t>()[0], float_to_half(1.f / (1.f + std::exp(1.f))));
  EXPECT_EQ(y.data<uint16_t>()[1], float_to_half(1.f / (1.f + std::exp(-0.5f))));
  Tensor d = tensor<double>({-1.0, 0.5}, {2});
  Tensor yd = run_both("Tanh", 13, {fed(d)});
  EXPECT_DOUBLE_EQ(yd.data<double>()[0], std::tanh(-1.0));
  // Sigmoid has no integer kernel: a clean error.
  EXPECT_NE(run_error("Sigmoid", 13, {fed(xi)}).find("not supported"), std::string::npos);
}

TEST(UnaryOps, ClipAcrossOpsets) {
  Tensor x = f32({-3.f, -1.f, 0.f, 1.f, 3.f}, {5});
  // opset 6: attributes.
  expect_near(run_both("Clip", 6, {fed(x)}, {{"min", af(-1.5f)}, {"max", af(2.f)}}), {-1.5f, -1.f, 0.f, 1.f, 2.f}, {5});
  expect_near(run_both("Clip", 6, {fed(x)}, {{"max", af(0.5f)}}), {-3.f, -1.f, 0.f, 0.5f, 0.5f}, {5});
  // opset 13: constant inputs, omitted inputs, inputs fed at run time.
  Tensor lo = f32({-2.f}, {}), hi = f32({0.5f}, {});
  expect_near(run_both("Clip", 13, {fed(x), konst(lo), konst(hi)}), {-2.f, -1.f, 0.f, 0.5f, 0.5f}, {5});
  expect_near(run_both("Clip", 13, {fed(x), none(), konst(hi)}), {-3.f, -1.f, 0.f, 0.5f, 0.5f}, {5});
  expect_near(run_both("Clip", 13, {fed(x), fed(lo)}), {-2.f, -1.f, 0.f, 1.f, 3.f}, {5});
  expect_near(run_both("Clip", 13, {fed(x)}), {-3.f, -1.f, 0.f, 1.f, 3.f}, {5});
  // min > max gives max everywhere (numpy's clip).
  expect_near(run_both("Clip", 13, {fed(x), konst(f32({2.f}, {})), konst(f32({1.f}, {}))}), {1.f, 1.f, 1.f, 1.f, 1.f},
              {5});
  // Integer types.
  Tensor xi = tensor<int8_t>({-128, -5, 0, 5, 127}, {5});
  EXPECT_EQ(values<int8_t>(run_both("Clip", 13, {fed(xi), konst(tensor<int8_t>({-10}, {})), none()})),
            (std::vector<int8_t>{-10, -5, 0, 5, 127}));
  EXPECT_EQ(
      values<int8_t>(run_both("Clip", 13, {fed(xi), fed(tensor<int8_t>({-1}, {})), fed(tensor<int8_t>({1}, {}))})),
      (std::vector<int8_t>{-1, -1, 0, 1, 1}));
  EXPECT_NE(run_error("Clip", 13, {fed(x), konst(f32({0.f, 1.f}, {2}))}).find("scalar"), std::string::npos);
}

TEST(UnaryOps, PReluSlopes) {
  Tensor x = f32({-1.f, 2.f, -3.f, 4.f, -5.f, 6.f, -7.f, 8.f, -9.f, 10.f, -11.f, 12.f}, {1, 3, 2, 2});
  // Per-channel slope (C,1,1), opset 16.
  Tensor s = f32({0.1f, 0.2f, 0.3f}, {3, 1, 1});
  expect_near(run_both("PRelu", 16, {fed(x), konst(s)}),
              {-0.1f, 2.f, -0.3f, 4.f, -1.f, 6.f, -1.4f, 8.f, -2.7f, 10.f, -3.3f, 12.f}, {1, 3, 2, 2});
  // opset 6 (pytorch export): a 1-D slope of size C applies per channel.
  expect_near(run_both("PRelu", 6, {fed(x), konst(f32({0.1f, 0.2f, 0.3f}, {3}))}),
              {-0.1f, 2.f, -0.3f, 4.f, -1.f, 6.f, -1.4f, 8.f, -2.7f, 10.f, -3.3f, 12.f}, {1, 3, 2, 2});
  // Scalar slope.
  expect_near(run_both("PRelu", 16, {fed(x), fed(f32({0.5f}, {1}))}),
              {-0.5f, 2.f, -1.5f, 4.f, -2.5f, 6.f, -3.5f, 8.f, -4.5f, 10.f, -5.5f, 12.f}, {1, 3, 2, 2});
  // The slope must broadcast to X (unidirectional).
  EXPECT_NE(run_error("PRelu", 16, {fed(f32({1.f, 2.f}, {2})), konst(f32({1.f, 2.f, 3.f}, {3}))}).find("broadcast"),
            std::string::npos);
}

}  // namespace
}  // namespace kaiwu
