// Softmax (opset < 13: 2-D coercion; >= 13: one axis) and Cast through the registry.
#include <cmath>
#include <limits>

#include "core/half.h"
#include "elem_test_util.h"

namespace kaiwu {
namespace {

using namespace elemtest;

// Softmax of x viewed as [outer, n, inner] along n, in double.
std::vector<float> softmax_expected(const Tensor& x, int64_t outer, int64_t n, int64_t inner) {
  std::vector<float> y(static_cast<size_t>(x.numel()));
  const float* p = x.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double m = -INFINITY, s = 0;
      for (int64_t j = 0; j < n; ++j) m = std::max<double>(m, p[(o * n + j) * inner + i]);
      for (int64_t j = 0; j < n; ++j) s += std::exp(p[(o * n + j) * inner + i] - m);
      for (int64_t j = 0; j < n; ++j) y[(o * n + j) * inner + i] = std::exp(p[(o * n + j) * inner + i] - m) / s;
    }
  return y;
}

TEST(SoftmaxOp, AxisSemanticsAcrossOpsets) {
  Tensor x = test::random_f32({2, 3, 5}, 1, -4.f, 4.f);
  expect_near(run_both("Softmax", 13, {fed(x)}), softmax_expected(x, 6, 5, 1), {2, 3, 5});
  expect_near(run_both("Softmax", 13, {fed(x)}, {{"axis", ai(1)}}), softmax_expected(x, 2, 3, 5), {2, 3, 5});
  expect_near(run_both("Softmax", 13, {fed(x)}, {{"axis", ai(0)}}), softmax_expected(x, 1, 2, 15), {2, 3, 5});
  // opset 11: axis 1 (default) flattens [3, 5] into one row of 15.
  expect_near(run_both("Softmax", 11, {fed(x)}), softmax_expected(x, 2, 15, 1), {2, 3, 5});
  expect_near(run_both("Softmax", 11, {fed(x)}, {{"axis", ai(0)}}), softmax_expected(x, 1, 30, 1), {2, 3, 5});
  EXPECT_NE(run_error("Softmax", 13, {fed(x)}, {{"axis", ai(3)}}).find("out of range"), std::string::npos);
}

TEST(SoftmaxOp, LargeRowsAndColumns) {
  // A PP-OCR-like head (rows of 6625 classes) and a channel softmax (inner axis) with tails.
  Tensor rows = test::random_f32({25, 6625}, 2, -20.f, 20.f);
  Tensor y = run_both("Softmax", 13, {fed(rows)}, {}, 1e-5);
  expect_near(y, softmax_expected(rows, 25, 6625, 1), {25, 6625}, 1e-6);
  Tensor cols = test::random_f32({2, 7, 9, 131}, 3, -5.f, 5.f);
  expect_near(run_both("Softmax", 13, {fed(cols)}, {{"axis", ai(1)}}, 1e-5), softmax_expected(cols, 2, 7, 9 * 131),
              {2, 7, 9, 131});
  // Large values do not overflow.
  expect_near(run_both("Softmax", 13, {fed(f32({1000.f, 1001.f, 1002.f}, {3}))}),
              {0.09003057f, 0.24472847f, 0.66524096f}, {3});
}

TEST(CastOp, ConvertsBetweenTypes) {
  Tensor x = f32({-2.7f, -0.5f, 0.f, 1.9f, 300.f}, {5});
  EXPECT_EQ(values<int32_t>(run_both("Cast", 13, {fed(x)}, {{"to", ai(6)}})), (std::vector<int32_t>{-2, 0, 0, 1, 300}));
  EXPECT_EQ(values<uint8_t>(run_both("Cast", 13, {fed(x)}, {{"to", ai(2)}})), (std::vector<uint8_t>{254, 0, 0, 1, 44}));
  EXPECT_EQ(values<uint8_t>(run_both("Cast", 13, {fed(x)}, {{"to", ai(9)}})), (std::vector<uint8_t>{1, 1, 0, 1, 1}));
  Tensor h = run_both("Cast", 13, {fed(x)}, {{"to", ai(10)}});
  ASSERT_EQ(h.dtype(), DType::kF16);
  EXPECT_EQ(h.data<uint16_t>()[3], float_to_half(1.9f));
  Tensor back = run_both("Cast", 13, {fed(h)}, {{"to", ai(11)}});
  EXPECT_EQ(back.dtype(), DType::kF64);
  EXPECT_EQ(back.data<double>()[4], 300.0);
  Tensor b = run_both("Cast", 13, {fed(tensor<bool>({true, false}, {2}))}, {{"to", ai(1)}});
  EXPECT_EQ(values<float>(b), (std::vector<float>{1.f, 0.f}));
  Tensor i = run_both("Cast", 13, {fed(tensor<int64_t>({-1, 70000}, {2}))}, {{"to", ai(5)}});
  EXPECT_EQ(values<int16_t>(i), (std::vector<int16_t>{-1, 4464}));  // wraps
  // Before opset 6 'to' is a type name.
  Attrs legacy = {{"to", ir::Attribute::make_string("INT64")}};
  EXPECT_EQ(values<int64_t>(run_both("Cast", 1, {fed(x)}, legacy)), (std::vector<int64_t>{-2, 0, 0, 1, 300}));
  EXPECT_NE(run_error("Cast", 13, {fed(x)}, {{"to", ai(8)}}).find("not supported"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
