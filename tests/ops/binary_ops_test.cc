// Binary / variadic elementwise ops and Where through the registry: broadcasting (numpy and legacy), integer
// semantics, mixed-type Pow, comparisons, f16.
#include <cmath>
#include <limits>

#include "core/half.h"
#include "elem_test_util.h"

namespace kaiwu {
namespace {

using namespace elemtest;

TEST(BinaryOps, ArithmeticWithBroadcasting) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({10, 20, 30}, {3});
  expect_near(run_both("Add", 14, {fed(a), fed(b)}), {11, 22, 33, 14, 25, 36}, {2, 3});
  expect_near(run_both("Sub", 14, {fed(a), fed(b)}), {-9, -18, -27, -6, -15, -24}, {2, 3});
  expect_near(run_both("Mul", 14, {fed(a), konst(f32({2}, {}))}), {2, 4, 6, 8, 10, 12}, {2, 3});
  expect_near(run_both("Div", 14, {konst(f32({6}, {1})), fed(a)}), {6, 3, 2, 1.5f, 1.2f, 1}, {2, 3});
  // Both sides broadcast: (2,1) op (1,3) -> (2,3).
  expect_near(run_both("Add", 14, {fed(f32({1, 2}, {2, 1})), fed(f32({10, 20, 30}, {1, 3}))}), {11, 21, 31, 12, 22, 32},
              {2, 3});
  EXPECT_NE(run_error("Add", 14, {fed(a), fed(f32({1, 2}, {2}))}).find("broadcast"), std::string::npos);
  EXPECT_NE(run_error("Add", 14, {fed(a), fed(tensor<int32_t>({1}, {1}))}).find("different dtypes"), std::string::npos);
}

TEST(BinaryOps, HotLayoutsMatchReference) {
  // Per-channel (1,C,1,1) and (C,1,1), same shape, scalar, SE-style (N,C,1,1), and a row broadcast, over sizes
  // larger than one parallel chunk.
  Tensor x = test::random_f32({2, 24, 37, 41}, 1);
  const Shape shapes[] = {{1, 24, 1, 1}, {24, 1, 1}, {2, 24, 37, 41}, {}, {2, 24, 1, 1}, {41}, {37, 1}};
  unsigned seed = 2;
  for (const Shape& s : shapes) {
    Tensor y = test::random_f32(s, seed++, 0.5f, 2.f);
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min"}) {
      SCOPED_TRACE(std::string(op) + " " + shape_to_string(s));
      Tensor r = run_both(op, 14, {fed(x), fed(y)}, {}, 0);
      EXPECT_EQ(r.shape(), x.shape());
      run_both(op, 14, {fed(y), konst(x)}, {}, 0);
    }
  }
}

TEST(BinaryOps, LegacyBroadcastBeforeOpset7) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  // B aligned with A at axis 0: (2) -> (2,1).
  expect_near(run_both("Add", 6, {fed(a), fed(f32({10, 20}, {2}))}, {{"broadcast", ai(1)}, {"axis", ai(0)}}),
              {11, 12, 13, 24, 25, 26}, {2, 3});
  // No axis: suffix alignment.
  expect_near(run_both("Mul", 6, {fed(a), fed(f32({1, 0, 2}, {3}))}, {{"broadcast", ai(1)}}), {1, 0, 6, 4, 0, 12},
              {2, 3});
  EXPECT_NE(
      run_error("Sub", 6, {fed(a), fed(f32({1, 2, 3}, {3}))}, {{"broadcast", ai(1)}, {"axis", ai(2)}}).find("axis"),
      std::string::npos);
}

TEST(BinaryOps, IntegerSemantics) {
  Tensor a = tensor<int32_t>({7, -7, 7, -7, 5, std::numeric_limits<int32_t>::min()}, {6});
  Tensor b = tensor<int32_t>({2, 2, -2, -2, 0, -1}, {6});
  // C truncation, x/0 = 0 and INT_MIN / -1 wraps instead of trapping.
  EXPECT_EQ(values<int32_t>(run_both("Div", 14, {fed(a), fed(b)}, {}, 0)),
            (std::vector<int32_t>{3, -3, -3, 3, 0, std::numeric_limits<int32_t>::min()}));
  Tensor u = tensor<uint8_t>({250, 3}, {2});
  EXPECT_EQ(values<uint8_t>(run_both("Add", 14, {fed(u), konst(tensor<uint8_t>({10}, {}))}, {}, 0)),
            (std::vector<uint8_t>{4, 13}));  // wraps
  EXPECT_EQ(values<uint8_t>(run_both("Sub", 14, {fed(u), konst(tensor<uint8_t>({4}, {}))}, {}, 0)),
            (std::vector<uint8_t>{246, 255}));
  Tensor i8 = tensor<int8_t>({100, -3}, {2});
  EXPECT_EQ(values<int8_t>(run_both("Mul", 14, {fed(i8), fed(tensor<int8_t>({2, 5}, {2}))}, {}, 0)),
            (std::vector<int8_t>{-56, -15}));
  Tensor i64 = tensor<int64_t>({1, 5, -3}, {3});
  EXPECT_EQ(values<int64_t>(run_both("Max", 13, {fed(i64), fed(tensor<int64_t>({2}, {1}))}, {}, 0)),
            (std::vector<int64_t>{2, 5, 2}));
}

TEST(BinaryOps, PowTypes) {
  Tensor x = f32({1, 2, 3}, {3});
  expect_near(run_both("Pow", 15, {fed(x), fed(f32({4, 5, 6}, {3}))}), {1, 32, 729}, {3});
  expect_near(run_both("Pow", 15, {fed(x), fed(tensor<int64_t>({4, 5, 6}, {3}))}), {1, 32, 729}, {3});
  expect_near(run_both("Pow", 15, {fed(x), konst(f32({2}, {}))}), {1, 4, 9}, {3});  // Square
  expect_near(run_both("Pow", 15, {fed(x), konst(f32({0.5f}, {}))}), {1, std::sqrt(2.f), std::sqrt(3.f)}, {3});
  expect_near(run_both("Pow", 15, {fed(x), konst(f32({-1}, {}))}), {1, 0.5f, 1.f / 3}, {3});
  Tensor xi = tensor<int32_t>({1, 2, 3, -2}, {4});
  EXPECT_EQ(values<int32_t>(run_both("Pow", 15, {fed(xi), fed(tensor<int32_t>({4, 5, 6, 3}, {4}))}, {}, 0)),
            (std::vector<int32_t>{1, 32, 729, -8}));
  EXPECT_EQ(values<int32_t>(run_both("Pow", 15, {fed(xi), fed(f32({0.5f, 2.f, 1.5f, 2.f}, {4}))}, {}, 0)),
            (std::vector<int32_t>{1, 4, 5, 4}));  // computed in f64, truncated
  EXPECT_EQ(values<int64_t>(
                run_both("Pow", 15, {fed(tensor<int64_t>({2, 3}, {2})), fed(tensor<int64_t>({62, -1}, {2}))}, {}, 0)),
            (std::vector<int64_t>{int64_t{1} << 62, 0}));
}

TEST(BinaryOps, VariadicMinMax) {
  Tensor a = f32({1, 5, 3}, {3}), b = f32({4, 2}, {2, 1}), c = f32({2.5f}, {});
  expect_near(run_both("Max", 13, {fed(a), fed(b), fed(c)}), {4, 5, 4, 2.5f, 5, 3}, {2, 3});
  expect_near(run_both("Min", 13, {fed(a), fed(b), fed(c)}), {1, 2.5f, 2.5f, 1, 2, 2}, {2, 3});
  expect_near(run_both("Max", 13, {fed(a)}), {1, 5, 3}, {3});
  // The first input broadcasts too (its shape is smaller than the result's).
  expect_near(run_both("Min", 8, {fed(c), fed(b)}), {2.5f, 2}, {2, 1});
  // NaN propagates.
  Tensor n = run_both("Max", 13, {fed(f32({NAN, 1.f}, {2})), fed(f32({0.f, NAN}, {2}))});
  EXPECT_TRUE(std::isnan(n.data<float>()[0]));
  EXPECT_TRUE(std::isnan(n.data<float>()[1]));
  // f16 computes through f32 and rounds once.
  Tensor h1 =
      Tensor::view(DType::kF16, {2}, tensor<uint16_t>({float_to_half(1.5f), float_to_half(-2.f)}, {2}).raw()).clone();
  Tensor h2 = Tensor::view(DType::kF16, {1}, tensor<uint16_t>({float_to_half(0.25f)}, {1}).raw()).clone();
  Tensor hm = run_both("Max", 13, {fed(h1), fed(h2)});
  ASSERT_EQ(hm.dtype(), DType::kF16);
  EXPECT_EQ(hm.data<uint16_t>()[0], float_to_half(1.5f));
  EXPECT_EQ(hm.data<uint16_t>()[1], float_to_half(0.25f));
  Tensor ha = run_both("Add", 14, {fed(h1), fed(h2)});
  EXPECT_EQ(ha.data<uint16_t>()[1], float_to_half(-1.75f));
}

TEST(BinaryOps, Comparisons) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2}), b = f32({2, 2}, {2});
  auto bools = [](const Tensor& t) {
    EXPECT_EQ(t.dtype(), DType::kBool);
    return values<uint8_t>(t);
  };
  EXPECT_EQ(bools(run_both("Equal", 13, {fed(a), fed(b)})), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(bools(run_both("Greater", 13, {fed(a), fed(b)})), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(bools(run_both("Less", 13, {fed(a), fed(b)})), (std::vector<uint8_t>{1, 0, 0, 0}));
  Tensor ia = tensor<int64_t>({-1, 5}, {2});
  EXPECT_EQ(bools(run_both("Less", 13, {fed(ia), konst(tensor<int64_t>({0}, {}))})), (std::vector<uint8_t>{1, 0}));
  Tensor ba = tensor<bool>({true, false, true}, {3}), bb = tensor<bool>({true, true, false}, {3});
  EXPECT_EQ(bools(run_both("Equal", 13, {fed(ba), fed(bb)})), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_FALSE(bools(run_both("Equal", 13, {fed(f32({NAN}, {1})), fed(f32({NAN}, {1}))}))[0]);
}

TEST(BinaryOps, Where) {
  Tensor c = tensor<bool>({true, false, false, true}, {2, 2});
  Tensor x = f32({1, 2, 3, 4}, {2, 2}), y = f32({-1, -2}, {2});
  expect_near(run_both("Where", 16, {fed(c), fed(x), fed(y)}), {1, -2, -1, 4}, {2, 2});
  // Condition broadcast along rows, int64 values.
  Tensor c2 = tensor<bool>({false, true}, {2, 1});
  Tensor xi = tensor<int64_t>({7, 8, 9}, {3}), yi = tensor<int64_t>({0}, {});
  EXPECT_EQ(values<int64_t>(run_both("Where", 16, {fed(c2), fed(xi), fed(yi)})),
            (std::vector<int64_t>{0, 0, 0, 7, 8, 9}));
  // Large same-shape case through the parallel path.
  Tensor big = test::random_f32({70001}, 3);
  Tensor cb = Tensor::empty(DType::kBool, {70001});
  for (int64_t i = 0; i < cb.numel(); ++i) cb.data<uint8_t>()[i] = big.data<float>()[i] > 0;
  run_both("Where", 16, {fed(cb), fed(big), fed(test::random_f32({70001}, 4))}, {}, 0);
  EXPECT_NE(run_error("Where", 16, {fed(x), fed(x), fed(x)}).find("bool"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
