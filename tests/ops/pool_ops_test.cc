// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool through the registry: values checked against the ONNX
// reference implementation (dilations, count_include_pad, storage_order indices, auto_pad), ceil_mode, integer
// max pooling, the optimized kernels against the reference, and clear errors.
#include "nn_test_util.h"

namespace kaiwu {
namespace {

using namespace nntest;

TEST(PoolOp, AveragePoolDilationsAndCountIncludePad) {
  // Opset 19 dilations; values from the ONNX reference implementation.
  Tensor x = iota({1, 1, 5, 5});
  Attrs a = {{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}};
  a["count_include_pad"] = ai(1);
  expect_values(run_both("AveragePool", 19, {fed(x)}, a)[0],
                {1.5, 3, 3.5, 4, 2, 3, 6, 7, 8, 4, 5.5, 11, 12, 13, 6.5, 8, 16, 17, 18, 9, 4, 8, 8.5, 9, 4.5},
                {1, 1, 5, 5});
  a["count_include_pad"] = ai(0);
  expect_values(run_both("AveragePool", 19, {fed(x)}, a)[0],
                {6, 6, 7, 8, 8, 6, 6, 7, 8, 8, 11, 11, 12, 13, 13, 16, 16, 17, 18, 18, 16, 16, 17, 18, 18},
                {1, 1, 5, 5});
  expect_values(run_both("AveragePool", 11, {fed(x)},
                         {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"auto_pad", as("SAME_LOWER")},
                          {"count_include_pad", ai(1)}})[0],
                {1.333333f, 3, 2.666667f, 7, 12, 9, 8, 13, 9.333333f}, {1, 1, 3, 3});
}

TEST(PoolOp, MaxPoolIndicesColumnMajor) {
  // Input columns reversed so that the maxima sit at column 0 of each window; values from the ONNX reference.
  Tensor x = Tensor::empty(DType::kF32, {1, 1, 5, 5});
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) x.data<float>()[r * 5 + c] = 5.f * r + 4 - c;
  RunOpts o;
  o.outputs = 2;
  auto y = run_both("MaxPool", 12, {fed(x)},
                    {{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 1})}, {"pads", ais({1, 0, 1, 1})},
                     {"strides", ais({2, 2})}, {"storage_order", ai(1)}},
                    0, 0, o);
  expect_values(y[0], {9, 7, 5, 19, 17, 15, 19, 17, 15}, {1, 1, 3, 3});
  ASSERT_EQ(y[1].dtype(), DType::kI64);
  EXPECT_EQ(std::vector<int64_t>(y[1].data<int64_t>(), y[1].data<int64_t>() + 9),
            (std::vector<int64_t>{1, 11, 21, 3, 13, 23, 3, 13, 23}));
  // Row-major indices, second batch/channel offsets included.
  Tensor x2 = iota({2, 2, 2, 2});
  auto z = run_both("MaxPool", 12, {fed(x2)}, {{"kernel_shape", ais({2, 2})}}, 0, 0, o);
  EXPECT_EQ(std::vector<int64_t>(z[1].data<int64_t>(), z[1].data<int64_t>() + 4), (std::vector<int64_t>{3, 7, 11, 15}));
}

TEST(PoolOp, CeilModeDropsWindowsStartingInPadding) {
  // 6 wide, kernel 2, stride 2, pad_end 1: ceil gives 4 windows but the last would start in the padding -> 3.
  Tensor x = iota({1, 1, 1, 6});
  auto y = run_both("MaxPool", 12, {fed(x)},
                    {{"kernel_shape", ais({1, 2})}, {"strides", ais({1, 2})}, {"pads", ais({0, 0, 0, 1})},
                     {"ceil_mode", ai(1)}},
                    0, 0);
  expect_values(y[0], {1, 3, 5}, {1, 1, 1, 3});
  auto a = run_both("AveragePool", 12, {fed(iota({1, 1, 1, 5}))},
                    {{"kernel_shape", ais({1, 2})}, {"strides", ais({1, 2})}, {"ceil_mode", ai(1)}});
  expect_values(a[0], {0.5, 2.5, 4}, {1, 1, 1, 3});
}

TEST(PoolOp, OptimizedMatchesReference) {
  struct C {
    Shape x;
    Attrs a;
  };
  const std::vector<C> cases = {
      {{1, 8, 16, 16}, {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}}},
      {{2, 3, 9, 7}, {{"kernel_shape", ais({2, 3})}, {"ceil_mode", ai(1)}, {"strides", ais({2, 2})}}},
      {{1, 4, 10, 11}, {{"kernel_shape", ais({3, 2})}, {"dilations", ais({2, 1})}, {"auto_pad", as("SAME_UPPER")}}},
      {{2, 5, 13}, {{"kernel_shape", ais({4})}, {"strides", ais({3})}, {"pads", ais({1, 2})}}},
      {{1, 2, 4, 5, 6}, {{"kernel_shape", ais({2, 2, 3})}, {"pads", ais({0, 1, 1, 1, 0, 1})}}},
  };
  unsigned seed = 1;
  for (const C& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x));
    Tensor x = test::random_f32(c.x, seed++);
    run_both("MaxPool", 12, {fed(x)}, c.a, 0, 0);
    Attrs avg = c.a;
    avg.erase("dilations");
    run_both("AveragePool", 11, {fed(x)}, avg);
    avg["count_include_pad"] = ai(1);
    run_both("AveragePool", 11, {fed(x)}, avg);
    run_both("AveragePool", 19, {fed(x)}, c.a);
  }
}

TEST(PoolOp, IntegerMaxPool) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 200, 3, 4, 5, 6, 255, 8, 9}, {1, 1, 3, 3});
  auto y = run_both("MaxPool", 12, {fed(x)}, {{"kernel_shape", ais({2, 2})}}, 0, 0);
  ASSERT_EQ(y[0].dtype(), DType::kU8);
  EXPECT_EQ(std::vector<uint8_t>(y[0].data<uint8_t>(), y[0].data<uint8_t>() + 4), (std::vector<uint8_t>{200, 200, 255, 9}));
  Tensor xi = Tensor::from_vector<int8_t>({-5, -3, -128, -1}, {1, 1, 4});
  auto z = run_both("MaxPool", 12, {fed(xi)}, {{"kernel_shape", ais({2})}}, 0, 0);
  EXPECT_EQ(std::vector<int8_t>(z[0].data<int8_t>(), z[0].data<int8_t>() + 3), (std::vector<int8_t>{-3, -3, -1}));
}

TEST(PoolOp, GlobalPools) {
  Tensor x = iota({2, 3, 2, 2});
  expect_values(run_both("GlobalAveragePool", 1, {fed(x)})[0], {1.5, 5.5, 9.5, 13.5, 17.5, 21.5}, {2, 3, 1, 1});
  expect_values(run_both("GlobalMaxPool", 1, {fed(x)}, {}, 0, 0)[0], {3, 7, 11, 15, 19, 23}, {2, 3, 1, 1});
  Tensor big = test::random_f32({2, 64, 7, 9}, 5);
  run_both("GlobalAveragePool", 1, {fed(big)});
  run_both("GlobalMaxPool", 1, {fed(big)}, {}, 0, 0);
  EXPECT_EQ(run_both("GlobalAveragePool", 1, {fed(iota({1, 4, 5}))})[0].shape(), (Shape{1, 4, 1}));
}

TEST(PoolOp, PicksOptimizedKernels) {
  EXPECT_EQ(impl_of("MaxPool", 12, {fed(iota({1, 64, 112, 112}))},
                    {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}}),
            "x86");
  EXPECT_EQ(impl_of("MaxPool", 12, {fed(iota({1, 4, 8, 8}))}, {{"kernel_shape", ais({2, 2})}}, 2), "ref");  // Indices
  EXPECT_EQ(impl_of("AveragePool", 11, {fed(iota({1, 4, 8}))}, {{"kernel_shape", ais({2})}}), "x86");
  EXPECT_EQ(impl_of("GlobalAveragePool", 1, {fed(iota({1, 2048, 7, 7}))}), "x86");
  EXPECT_EQ(impl_of("GlobalMaxPool", 1, {fed(iota({1, 2048, 7, 7}))}), "x86");
}

TEST(PoolOp, ErrorsNameTheProblem) {
  Tensor x = iota({1, 1, 4, 4});
  EXPECT_NE(run_error("MaxPool", 12, {fed(x)}).find("kernel_shape"), std::string::npos);
  EXPECT_NE(run_error("MaxPool", 12, {fed(x)}, {{"kernel_shape", ais({2})}}).find("kernel_shape"), std::string::npos);
  EXPECT_NE(run_error("AveragePool", 11, {fed(x)}, {{"kernel_shape", ais({2, 2})}, {"strides", ais({0, 1})}})
                .find("strides"),
            std::string::npos);
  EXPECT_NE(run_error("AveragePool", 11, {fed(iota({4, 4}))}, {{"kernel_shape", ais({2})}}).find("rank"),
            std::string::npos);
}

}  // namespace
}  // namespace kaiwu
