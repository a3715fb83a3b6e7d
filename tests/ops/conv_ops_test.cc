// Conv and ConvTranspose through the registry: hand-checked and onnxruntime-checked values, auto_pad variants,
// output_shape / output_padding, and the oneDNN kernels against the reference over groups, depthwise, dilations,
// strides, 1-D/3-D, constant and fed weights, with and without bias; clear errors on bad shapes.
#include "nn_test_util.h"

namespace kaiwu {
namespace {

using namespace nntest;

Tensor ones(Shape s) {
  Tensor t = Tensor::empty(DType::kF32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 1.f;
  return t;
}

TEST(ConvOp, HandComputed) {
  // 3x3 input 0..8, 2x2 box filter: sums of each 2x2 window.
  auto y = run_both("Conv", 11, {fed(iota({1, 1, 3, 3})), konst(ones({1, 1, 2, 2}))});
  expect_values(y[0], {8, 12, 20, 24}, {1, 1, 2, 2});
  // Bias, 1x1 kernel, stride 2, pads 1: samples rows/cols -1, 1, 3 of the input (only (1, 1) is inside).
  y = run_both("Conv", 11, {fed(iota({1, 1, 3, 3})), konst(ones({1, 1, 1, 1})), konst(f32({0.5f}, {1}))},
               {{"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}});
  expect_values(y[0], {0.5f, 0.5f, 0.5f, 0.5f, 4.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {1, 1, 3, 3});
}

TEST(ConvOp, AutoPadSameUpperAndLower) {
  // 4x4 input 0..15, 2x2 box: SAME_UPPER pads the end, SAME_LOWER the beginning.
  auto up = run_both("Conv", 11, {fed(iota({1, 1, 4, 4})), konst(ones({1, 1, 2, 2}))}, {{"auto_pad", as("SAME_UPPER")}});
  ASSERT_EQ(up[0].shape(), (Shape{1, 1, 4, 4}));
  EXPECT_FLOAT_EQ(up[0].data<float>()[0], 10.f);
  EXPECT_FLOAT_EQ(up[0].data<float>()[15], 15.f);
  auto lo = run_both("Conv", 11, {fed(iota({1, 1, 4, 4})), konst(ones({1, 1, 2, 2}))}, {{"auto_pad", as("SAME_LOWER")}});
  EXPECT_FLOAT_EQ(lo[0].data<float>()[0], 0.f);
  EXPECT_FLOAT_EQ(lo[0].data<float>()[15], 50.f);
  auto valid = run_both("Conv", 11, {fed(iota({1, 1, 4, 5})), konst(ones({1, 1, 3, 3}))},
                        {{"auto_pad", as("VALID")}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({1, 2})}});
  EXPECT_EQ(valid[0].shape(), (Shape{1, 1, 2, 2}));
}

struct Case {
  Shape x, w;
  Attrs attrs;
  bool bias;
};

TEST(ConvOp, OptimizedMatchesReference) {
  const std::vector<Case> cases = {
      {{2, 3, 11, 9}, {8, 3, 3, 3}, {{"pads", ais({1, 1, 1, 1})}}, true},
      {{1, 16, 10, 10}, {16, 1, 3, 3}, {{"group", ai(16)}, {"strides", ais({2, 2})}, {"pads", ais({0, 1, 1, 0})}}, true},
      {{1, 8, 9, 7}, {16, 1, 3, 3}, {{"group", ai(8)}, {"auto_pad", as("SAME_LOWER")}}, false},
      {{1, 6, 12, 12}, {9, 2, 3, 3}, {{"group", ai(3)}, {"dilations", ais({2, 3})}, {"pads", ais({2, 3, 2, 3})}}, true},
      {{1, 24, 7, 7}, {12, 24, 1, 1}, {}, false},
      {{2, 5, 20}, {7, 5, 3}, {{"strides", ais({2})}, {"auto_pad", as("SAME_UPPER")}}, true},
      {{1, 4, 5, 6, 7}, {6, 2, 3, 3, 3}, {{"group", ai(2)}, {"pads", ais({1, 1, 1, 1, 0, 1})}}, true},
      {{1, 1, 1, 1}, {3, 1, 1, 1}, {}, true},
  };
  unsigned seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x) + " * " + shape_to_string(c.w));
    Tensor x = test::random_f32(c.x, seed++), w = test::random_f32(c.w, seed++), b = test::random_f32({c.w[0]}, seed++);
    std::vector<In> ins = {fed(x), konst(w)};
    if (c.bias) ins.push_back(konst(b));
    run_both("Conv", 11, ins, c.attrs, 1e-4, 1e-4);
    ins[1] = fed(w);  // weights (and bias) known only at run time
    if (c.bias) ins[2] = fed(b);
    run_both("Conv", 11, ins, c.attrs, 1e-4, 1e-4);
  }
}

TEST(ConvOp, PicksOnednnForUsualShapes) {
  // A silent fall-back to the scalar reference would be a large slowdown: the usual layers must get oneDNN.
  const std::vector<std::pair<Shape, Shape>> shapes = {{{1, 3, 224, 224}, {64, 3, 7, 7}},
                                                       {{1, 64, 56, 56}, {64, 64, 3, 3}},
                                                       {{1, 256, 56, 56}, {64, 256, 1, 1}},
                                                       {{1, 144, 28, 28}, {144, 1, 3, 3}},
                                                       {{2, 5, 20}, {7, 5, 3}},
                                                       {{1, 4, 5, 6, 7}, {6, 4, 3, 3, 3}}};
  for (const auto& [x, w] : shapes) {
    Attrs a = {{"pads", ais(std::vector<int64_t>(2 * (x.size() - 2), 1))}};
    if (w[1] == 1 && x[1] > 1) a["group"] = ai(x[1]);
    EXPECT_EQ(impl_of("Conv", 11, {fed(iota(x)), konst(iota(w)), konst(iota({w[0]}))}, a), "onednn")
        << shape_to_string(x) << " * " << shape_to_string(w);
  }
  EXPECT_EQ(impl_of("ConvTranspose", 11, {fed(iota({1, 64, 28, 28})), konst(iota({64, 32, 4, 4}))},
                    {{"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}}),
            "onednn");
}

TEST(ConvOp, ErrorsNameTheProblem) {
  Tensor x = iota({1, 4, 5, 5});
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 3, 3, 3}))}).find("channels"), std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({3, 2, 3, 3}))}, {{"group", ai(2)}}).find("divisible"),
            std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 4, 3, 3}))}, {{"kernel_shape", ais({2, 2})}})
                .find("kernel_shape"),
            std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 4, 3, 3}))}, {{"auto_pad", as("SAME")}}).find("auto_pad"),
            std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 4, 7, 7}))}).find("larger than the padded input"),
            std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 4, 3, 3})), konst(ones({3}))}).find("B"), std::string::npos);
  EXPECT_NE(run_error("Conv", 11, {fed(x), konst(ones({2, 4, 3}))}).find("rank"), std::string::npos);
}

TEST(ConvTransposeOp, HandComputed) {
  // Stride 2, 2x2 ones kernel: every input value spreads over its own 2x2 block.
  auto y = run_both("ConvTranspose", 11, {fed(f32({1, 2, 3, 4}, {1, 1, 2, 2})), konst(ones({1, 1, 2, 2}))},
                    {{"strides", ais({2, 2})}});
  expect_values(y[0], {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4});
}

TEST(ConvTransposeOp, AutoPadAndOutputShapeMatchOnnxruntime) {
  Tensor x = iota({1, 1, 2, 2});
  Tensor w = Tensor::empty(DType::kF32, {1, 1, 3, 3});
  for (int i = 0; i < 9; ++i) w.data<float>()[i] = i / 4.f - 1.f;
  auto lo = run_both("ConvTranspose", 11, {fed(x), konst(w)}, {{"strides", ais({2, 2})}, {"auto_pad", as("SAME_LOWER")}});
  expect_values(lo[0], {0, -0.25, 0, 0.25, -1.5, -3.5, -1.5, -0.5, 0, -0.25, 0, 0.75, 1.5, 3.5, 2.25, 3}, {1, 1, 4, 4});
  auto up = run_both("ConvTranspose", 11, {fed(x), konst(w)}, {{"strides", ais({2, 2})}, {"auto_pad", as("SAME_UPPER")}});
  expect_values(up[0], {0, 0, -1, -0.75, 0, 0, -0.25, 0, -2, -1.5, -3.5, -1.5, -0.5, 0, -0.25, 0}, {1, 1, 4, 4});
  auto os = run_both("ConvTranspose", 11, {fed(x), konst(w), konst(f32({0.5f}, {1}))},
                     {{"strides", ais({2, 2})}, {"output_shape", ais({4, 6})}});
  expect_values(os[0], {0.5, 0.5, 0.25, 0.5, 0.75, 0.5, -1.5, -1, -3, -1, 0, 0.5,
                        0, 0.5, 0.25, 0.5, 1.25, 0.5, 1.5, 2, 4, 2.75, 3.5, 0.5},
                {1, 1, 4, 6});
}

TEST(ConvTransposeOp, GroupsDilationsPaddingMatchOnnxruntime) {
  Tensor x = iota({1, 2, 2, 3});
  Tensor w = Tensor::empty(DType::kF32, {2, 3, 2, 2});
  for (int i = 0; i < 24; ++i) w.data<float>()[i] = i / 10.f - 0.5f;
  auto y = run_both("ConvTranspose", 11, {fed(x), konst(w)},
                    {{"strides", ais({1, 2})}, {"group", ai(2)}, {"dilations", ais({2, 1})},
                     {"pads", ais({1, 0, 0, 1})}, {"output_padding", ais({0, 1})}});
  ASSERT_EQ(y[0].shape(), (Shape{1, 6, 3, 6}));
  const std::vector<float> want_first = {-1.5, -1.2, -2, -1.6, -2.5, -2, 0, 0, -0.3, -0.2, -0.6, -0.4};
  const std::vector<float> want_last = {15.3, 16.2, 17, 18, 18.7, 19.8};
  for (size_t i = 0; i < want_first.size(); ++i) EXPECT_NEAR(y[0].data<float>()[i], want_first[i], 1e-5);
  for (size_t i = 0; i < want_last.size(); ++i) EXPECT_NEAR(y[0].data<float>()[102 + i], want_last[i], 1e-4);
}

TEST(ConvTransposeOp, OptimizedMatchesReference) {
  const std::vector<Case> cases = {
      {{1, 4, 5, 5}, {4, 6, 3, 3}, {{"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}, {"output_padding", ais({1, 1})}}, true},
      {{2, 8, 4, 6}, {8, 2, 4, 4}, {{"strides", ais({2, 2})}, {"group", ai(2)}, {"pads", ais({1, 1, 1, 1})}}, false},
      {{1, 16, 7, 7}, {16, 1, 3, 3}, {{"strides", ais({2, 2})}, {"group", ai(16)}, {"auto_pad", as("SAME_UPPER")}}, true},
      {{1, 3, 6}, {3, 5, 3}, {{"dilations", ais({2})}}, true},
      {{1, 2, 3, 4, 2}, {2, 3, 2, 2, 2}, {{"strides", ais({2, 1, 2})}, {"output_shape", ais({7, 5, 4})}}, true},
  };
  unsigned seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x) + " * " + shape_to_string(c.w));
    Tensor x = test::random_f32(c.x, seed++), w = test::random_f32(c.w, seed++);
    int64_t m = c.w[1];
    auto g = c.attrs.find("group");
    if (g != c.attrs.end()) m *= g->second.i;
    std::vector<In> ins = {fed(x), konst(w)};
    if (c.bias) ins.push_back(konst(test::random_f32({m}, seed++)));
    run_both("ConvTranspose", 11, ins, c.attrs, 1e-4, 1e-4);
    ins[1] = fed(w);
    run_both("ConvTranspose", 11, ins, c.attrs, 1e-4, 1e-4);
  }
}

TEST(ConvTransposeOp, ErrorsNameTheProblem) {
  EXPECT_NE(run_error("ConvTranspose", 11, {fed(iota({1, 3, 4, 4})), konst(ones({2, 2, 3, 3}))}).find("channels"),
            std::string::npos);
  EXPECT_NE(run_error("ConvTranspose", 11, {fed(iota({1, 2, 4, 4})), konst(ones({2, 2, 3, 3}))},
                      {{"output_shape", ais({4})}})
                .find("output_shape"),
            std::string::npos);
}

}  // namespace
}  // namespace kaiwu
