// Gemm and MatMul through the registry: hand-checked values, transposes, alpha/beta, every C broadcast shape
// (constant and fed), optional C, numpy batch broadcasting and 1-D operands, integer MatMul, and the oneDNN
// kernels against the reference; clear errors on mismatched shapes.
#include "nn_test_util.h"

namespace kaiwu {
namespace {

using namespace nntest;

TEST(GemmOp, HandComputed) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({1, 0, 0, 1, 1, 1}, {3, 2});
  // A.B = [[4, 5], [10, 11]]; alpha 2, beta 0.5, C row [10, 20].
  auto y = run_both("Gemm", 13, {fed(a), konst(b), konst(f32({10, 20}, {2}))}, {{"alpha", af(2)}, {"beta", af(0.5f)}});
  expect_values(y[0], {13, 20, 25, 32}, {2, 2});
  // transA / transB with the transposed storage give the same product; no C.
  Tensor at = f32({1, 4, 2, 5, 3, 6}, {3, 2}), bt = f32({1, 0, 1, 0, 1, 1}, {2, 3});
  y = run_both("Gemm", 13, {fed(at), fed(bt)}, {{"transA", ai(1)}, {"transB", ai(1)}});
  expect_values(y[0], {4, 5, 10, 11}, {2, 2});
}

TEST(GemmOp, OptimizedMatchesReferenceOverCShapes) {
  const int64_t m = 7, k = 19, n = 5;
  Tensor a = test::random_f32({m, k}, 1), at = test::random_f32({k, m}, 2);
  Tensor b = test::random_f32({k, n}, 3), bt = test::random_f32({n, k}, 4);
  const std::vector<Shape> c_shapes = {{}, {1}, {n}, {1, n}, {m, 1}, {m, n}, {1, 1}};
  unsigned seed = 10;
  for (const Shape& cs : c_shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (float alpha : {1.f, -0.5f})
          for (float beta : {1.f, 2.f, 0.f})
            for (bool c_const : {true, false}) {
              SCOPED_TRACE("C " + shape_to_string(cs) + " tA " + std::to_string(ta) + " tB " + std::to_string(tb));
              Tensor c = test::random_f32(cs, seed++);
              std::vector<In> ins = {fed(ta ? at : a), tb % 2 ? konst(bt) : fed(b), c_const ? konst(c) : fed(c)};
              Attrs attrs = {{"transA", ai(ta)}, {"transB", ai(tb)}, {"alpha", af(alpha)}, {"beta", af(beta)}};
              run_both("Gemm", 13, ins, attrs, 1e-5, 1e-5);
            }
  // Gemm-7 (C required, same semantics) and the classifier shape 1x2048 -> 1000 with transB.
  run_both("Gemm", 7, {fed(a), konst(b), konst(test::random_f32({m, n}, 99))}, {}, 1e-5, 1e-5);
  run_both("Gemm", 13,
           {fed(test::random_f32({1, 2048}, 5)), konst(test::random_f32({1000, 2048}, 6)),
            konst(test::random_f32({1000}, 7))},
           {{"transB", ai(1)}}, 1e-4, 1e-4);
}

TEST(GemmOp, DoubleUsesTheReference) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  auto y = run_both("Gemm", 13, {fed(a), fed(a), konst(Tensor::from_vector<double>({1}, {1}))});
  ASSERT_EQ(y[0].dtype(), DType::kF64);
  EXPECT_DOUBLE_EQ(y[0].data<double>()[0], 8);
  EXPECT_DOUBLE_EQ(y[0].data<double>()[3], 23);
}

TEST(GemmOp, ErrorsNameTheProblem) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_NE(run_error("Gemm", 13, {fed(a), fed(a)}).find("inner dimensions"), std::string::npos);
  EXPECT_NE(run_error("Gemm", 13, {fed(a), fed(a), fed(f32({1, 2, 3}, {3}))}, {{"transB", ai(1)}}).find("broadcast"),
            std::string::npos);
  EXPECT_NE(run_error("Gemm", 13, {fed(f32({1, 2}, {2})), fed(a)}).find("matrices"), std::string::npos);
}

TEST(MatMulOp, HandComputedAndOneDimensional) {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({1, 0, 0, 1, 1, 1}, {3, 2});
  expect_values(run_both("MatMul", 13, {fed(a), konst(b)})[0], {4, 5, 10, 11}, {2, 2});
  // 1-D x 2-D, 2-D x 1-D, 1-D x 1-D.
  expect_values(run_both("MatMul", 13, {fed(f32({1, 1, 1}, {3})), fed(b)})[0], {2, 2}, {2});
  expect_values(run_both("MatMul", 13, {fed(a), fed(f32({1, 0, -1}, {3}))})[0], {-2, -2}, {2});
  expect_values(run_both("MatMul", 13, {fed(f32({1, 2, 3}, {3})), konst(f32({4, 5, 6}, {3}))})[0], {32}, {});
  // Batched 1-D: [2, 3, 4] x [4] -> [2, 3].
  auto y = run_both("MatMul", 13, {fed(test::random_f32({2, 3, 4}, 1)), konst(test::random_f32({4}, 2))});
  EXPECT_EQ(y[0].shape(), (Shape{2, 3}));
}

TEST(MatMulOp, BatchBroadcastingMatchesReference) {
  struct C {
    Shape a, b, y;
  };
  const std::vector<C> cases = {
      {{2, 3, 5, 8}, {2, 3, 8, 4}, {2, 3, 5, 4}},  // equal batches
      {{2, 1, 5, 8}, {3, 8, 4}, {2, 3, 5, 4}},     // both broadcast
      {{4, 5, 8}, {8, 6}, {4, 5, 6}},              // B without batch (A's batches fold into rows)
      {{5, 8}, {4, 8, 6}, {4, 5, 6}},              // A without batch
      {{1, 197, 64}, {64, 192}, {1, 197, 192}},    // transformer-ish projection
      {{3, 1, 7}, {1, 7, 1}, {3, 1, 1}},
  };
  unsigned seed = 20;
  for (const C& c : cases) {
    SCOPED_TRACE(shape_to_string(c.a) + " x " + shape_to_string(c.b));
    Tensor a = test::random_f32(c.a, seed++), b = test::random_f32(c.b, seed++);
    EXPECT_EQ(run_both("MatMul", 13, {fed(a), konst(b)}, {}, 1e-5, 1e-5)[0].shape(), c.y);
    EXPECT_EQ(run_both("MatMul", 13, {fed(a), fed(b)}, {}, 1e-5, 1e-5)[0].shape(), c.y);
  }
}

TEST(MatMulOp, PicksOnednnForFloat) {
  EXPECT_EQ(impl_of("Gemm", 13, {fed(iota({1, 2048})), konst(iota({1000, 2048})), konst(iota({1000}))},
                    {{"transB", ai(1)}}),
            "onednn");
  EXPECT_EQ(impl_of("Gemm", 13, {fed(iota({3, 4})), fed(iota({4, 5}))}, {{"alpha", af(2)}}), "onednn");
  EXPECT_EQ(impl_of("MatMul", 13, {fed(iota({2, 197, 64})), konst(iota({64, 192}))}), "onednn");
  EXPECT_EQ(impl_of("MatMul", 13, {fed(iota({2, 8, 64, 32})), fed(iota({2, 8, 32, 64}))}), "onednn");
  EXPECT_EQ(impl_of("MatMul", 13, {fed(iota({3})), fed(iota({3}))}), "onednn");
  EXPECT_EQ(impl_of("MatMul", 13, {fed(Tensor::from_vector<int32_t>({1}, {1, 1})), fed(Tensor::from_vector<int32_t>({1}, {1, 1}))}),
            "ref");
}

TEST(MatMulOp, IntegerTypes) {
  Tensor a = Tensor::from_vector<int32_t>({1, -2, 3, 4}, {2, 2});
  auto y = run_both("MatMul", 13, {fed(a), fed(a)});
  ASSERT_EQ(y[0].dtype(), DType::kI32);
  EXPECT_EQ(std::vector<int32_t>(y[0].data<int32_t>(), y[0].data<int32_t>() + 4), (std::vector<int32_t>{-5, -10, 15, 10}));
  Tensor b = Tensor::from_vector<int64_t>({1, 2, 3}, {1, 3});
  auto z = run_both("MatMul", 13, {fed(b), fed(Tensor::from_vector<int64_t>({1, 1, 1}, {3, 1}))});
  EXPECT_EQ(z[0].data<int64_t>()[0], 6);
}

TEST(MatMulOp, ErrorsNameTheProblem) {
  EXPECT_NE(run_error("MatMul", 13, {fed(iota({2, 3})), fed(iota({2, 3}))}).find("inner dimensions"), std::string::npos);
  EXPECT_NE(run_error("MatMul", 13, {fed(iota({2, 2, 3})), fed(iota({3, 3, 2}))}).find("broadcast"), std::string::npos);
  EXPECT_NE(run_error("MatMul", 13, {fed(iota({2, 3})), fed(Tensor::from_vector<int32_t>({1, 2, 3}, {3}))})
                .find("dtypes"),
            std::string::npos);
}

}  // namespace
}  // namespace kaiwu
