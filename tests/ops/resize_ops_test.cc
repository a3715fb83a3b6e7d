// Resize (opsets 10..19) and Upsample (7, 9) through the registry. Opset 18/19 features (antialias, axes,
// keep_aspect_ratio_policy, half_pixel_symmetric, tf_crop_and_resize with axes) are checked against values of the
// ONNX reference implementation (onnx 1.23), which the ONNX 1.12 conformance data does not cover. Also: sizes vs
// scales inputs, scales/sizes known only at run time, integer tensors, the optimized kernel against the reference.
#include "nn_test_util.h"

namespace kaiwu {
namespace {

using namespace nntest;

In scales(std::vector<float> v) { return konst(f32(v, {static_cast<int64_t>(v.size())})); }
In sizes(std::vector<int64_t> v) { return konst(i64(v, {static_cast<int64_t>(v.size())})); }

TEST(ResizeOp, Opset18Antialias) {
  Tensor x = iota({1, 1, 4, 4}, 1);
  expect_values(run_both("Resize", 18, {fed(x), none(), scales({1, 1, 0.6f, 0.6f})},
                         {{"mode", as("linear")}, {"antialias", ai(1)}})[0],
                {2.875, 4.5, 9.375, 11}, {1, 1, 2, 2});
  expect_values(run_both("Resize", 18, {fed(x), none(), none(), sizes({1, 1, 3, 3})},
                         {{"mode", as("cubic")}, {"antialias", ai(1)}})[0],
                {1.775009f, 3.120008f, 4.465005f, 7.155002f, 8.500001f, 9.844998f, 12.53499f, 13.87999f, 15.22499f},
                {1, 1, 3, 3});
}

TEST(ResizeOp, Opset18AxesAndKeepAspectRatio) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  auto nl = run_both("Resize", 18, {fed(x), none(), none(), sizes({7, 8})},
                     {{"axes", ais({2, 3})}, {"keep_aspect_ratio_policy", as("not_larger")}}, 0, 0);
  ASSERT_EQ(nl[0].shape(), (Shape{1, 1, 7, 7}));
  const std::vector<float> row_top = {1, 1, 1, 1, 2, 2, 2}, row_bottom = {3, 3, 3, 3, 4, 4, 4};
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 7; ++c) EXPECT_EQ(nl[0].data<float>()[r * 7 + c], (r < 4 ? row_top : row_bottom)[c]);
  auto ns = run_both("Resize", 18, {fed(x), none(), none(), sizes({7, 8})},
                     {{"axes", ais({2, 3})}, {"keep_aspect_ratio_policy", as("not_smaller")}}, 0, 0);
  ASSERT_EQ(ns[0].shape(), (Shape{1, 1, 8, 8}));
  EXPECT_EQ(ns[0].data<float>()[3 * 8 + 4], 2.f);
  EXPECT_EQ(ns[0].data<float>()[4 * 8 + 3], 3.f);
  // Cubic along the last axis only, exclude_outside, A = -0.5.
  expect_values(run_both("Resize", 18, {fed(iota({1, 1, 4, 4}, 1)), none(), scales({0.8f})},
                         {{"mode", as("cubic")}, {"axes", ais({3})}, {"exclude_outside", ai(1)},
                          {"cubic_coeff_a", af(-0.5f)}})[0],
                {1.073625f, 2.375f, 3.718835f, 5.073626f, 6.375f, 7.718835f, 9.073626f, 10.375f, 11.71883f, 13.07363f,
                 14.375f, 15.71883f},
                {1, 1, 4, 3});
  // tf_crop_and_resize with axes in reverse order: roi is [start(axis 3), start(axis 2), end(3), end(2)].
  expect_values(run_both("Resize", 18,
                         {fed(iota({1, 1, 4, 4}, 1)), konst(f32({0.6f, 0.4f, 0.8f, 1.2f}, {4})), none(), sizes({3, 3})},
                         {{"mode", as("linear")}, {"coordinate_transformation_mode", as("tf_crop_and_resize")},
                          {"axes", ais({3, 2})}, {"extrapolation_value", af(10)}})[0],
                {7.6f, 7.9f, 8.2f, 12.4f, 12.7f, 13, 10, 10, 10}, {1, 1, 3, 3});
}

TEST(ResizeOp, Opset19HalfPixelSymmetric) {
  Attrs a = {{"mode", as("linear")}, {"coordinate_transformation_mode", as("half_pixel_symmetric")}};
  expect_values(run_both("Resize", 19, {fed(f32({1, 2, 3, 4}, {1, 1, 1, 4})), none(), scales({1, 1, 1, 0.6f})}, a)[0],
                {1.666667f, 3.333333f}, {1, 1, 1, 2});
  expect_values(run_both("Resize", 19, {fed(f32({1, 2, 3, 4}, {1, 1, 2, 2})), none(), scales({1, 1, 2.3f, 2.94f})}, a)[0],
                {1, 1.159864f, 1.5, 1.840136f, 2, 1.565217f, 1.725081f, 2.065217f, 2.405354f, 2.565217f, 2.434783f,
                 2.594646f, 2.934783f, 3.274919f, 3.434783f, 3, 3.159864f, 3.5, 3.840136f, 4},
                {1, 1, 4, 5});
}

TEST(ResizeOp, LegacyOpsetsAndUpsample) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  const std::vector<float> nearest2x = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  expect_values(run_both("Resize", 10, {fed(x), scales({1, 1, 2, 2})}, {}, 0, 0)[0], nearest2x, {1, 1, 4, 4});
  expect_values(run_both("Upsample", 9, {fed(x), scales({1, 1, 2, 2})}, {}, 0, 0)[0], nearest2x, {1, 1, 4, 4});
  expect_values(run_both("Upsample", 7, {fed(x)}, {{"scales", afs({1, 1, 2, 2})}}, 0, 0)[0], nearest2x, {1, 1, 4, 4});
  // Linear with asymmetric coordinates (opset < 11): x_src = x / 2, edge-clamped.
  expect_values(run_both("Upsample", 9, {fed(f32({1, 3}, {1, 2})), scales({1, 2})}, {{"mode", as("linear")}})[0],
                {1, 2, 3, 3}, {1, 4});
  expect_values(run_both("Resize", 10, {fed(f32({1, 3}, {1, 2})), scales({1, 2})}, {{"mode", as("linear")}})[0],
                {1, 2, 3, 3}, {1, 4});
  // Non-integer factors, values from onnxruntime: nearest rounds up when downsampling, down when upsampling.
  Tensor x5 = iota({1, 1, 1, 5}, 1);
  expect_values(run_both("Resize", 10, {fed(x5), scales({1, 1, 1, 0.6f})}, {}, 0, 0)[0], {1, 3, 5}, {1, 1, 1, 3});
  expect_values(run_both("Upsample", 9, {fed(x5), scales({1, 1, 1, 1.7f})}, {}, 0, 0)[0], {1, 1, 2, 2, 3, 3, 4, 5},
                {1, 1, 1, 8});
  expect_values(run_both("Resize", 10, {fed(x5), scales({1, 1, 1, 0.6f})}, {{"mode", as("linear")}})[0],
                {1, 2.666667f, 4.333333f}, {1, 1, 1, 3});
  expect_values(run_both("Upsample", 9, {fed(x5), scales({1, 1, 1, 1.7f})}, {{"mode", as("linear")}})[0],
                {1, 1.588235f, 2.176471f, 2.764706f, 3.352941f, 3.941176f, 4.529411f, 5}, {1, 1, 1, 8});
  // Opset 11: empty scales with sizes; roi ignored outside tf_crop_and_resize.
  Tensor empty_scales = Tensor::empty(DType::kF32, {0});
  auto y = run_both("Resize", 11, {fed(x), konst(Tensor::empty(DType::kF32, {0})), konst(empty_scales), sizes({1, 1, 4, 4})},
                    {{"coordinate_transformation_mode", as("asymmetric")}}, 0, 0);
  expect_values(y[0], nearest2x, {1, 1, 4, 4});
}

TEST(ResizeOp, ScalesKnownOnlyAtRunTime) {
  Tensor x = test::random_f32({1, 3, 5, 7}, 1);
  auto y = run_both("Resize", 13, {fed(x), none(), fed(f32({1, 1, 2, 1.5f}, {4}))}, {{"mode", as("linear")}});
  EXPECT_EQ(y[0].shape(), (Shape{1, 3, 10, 10}));
  auto z = run_both("Resize", 13, {fed(x), none(), none(), fed(i64({1, 3, 3, 4}, {4}))}, {{"mode", as("cubic")}});
  EXPECT_EQ(z[0].shape(), (Shape{1, 3, 3, 4}));
}

TEST(ResizeOp, OptimizedMatchesReference) {
  Tensor x = test::random_f32({2, 3, 9, 13}, 2);
  const char* coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"};
  for (const char* mode : {"nearest", "linear", "cubic"})
    for (const char* ct : coords)
      for (auto sz : std::vector<std::vector<int64_t>>{{2, 3, 18, 26}, {2, 3, 4, 5}, {2, 3, 9, 20}}) {
        SCOPED_TRACE(std::string(mode) + " " + ct + " " + shape_to_string(sz));
        Attrs a = {{"mode", as(mode)}, {"coordinate_transformation_mode", as(ct)}, {"nearest_mode", as("round_prefer_ceil")}};
        run_both("Resize", 13, {fed(x), none(), none(), sizes(sz)}, a, 1e-5, 1e-5);
      }
  // Resizing the channel axis too: the reference handles it.
  run_both("Resize", 13, {fed(x), none(), scales({1, 2, 0.5f, 1})}, {{"mode", as("linear")}});
}

TEST(ResizeOp, PicksTheOptimizedKernelForImagePlanes) {
  EXPECT_EQ(impl_of("Resize", 13, {fed(iota({1, 256, 20, 20})), none(), scales({1, 1, 2, 2})}), "x86");
  EXPECT_EQ(impl_of("Resize", 13, {fed(iota({1, 32, 20, 20})), none(), none(), sizes({1, 32, 80, 80})},
                    {{"mode", as("linear")}}),
            "x86");
  EXPECT_EQ(impl_of("Upsample", 9, {fed(iota({1, 8, 5, 5})), scales({1, 1, 2, 2})}), "x86");
  EXPECT_EQ(impl_of("Resize", 13, {fed(iota({2, 4, 5, 5})), none(), scales({1, 2, 1, 1})}), "ref");
}

TEST(ResizeOp, IntegerTensors) {
  Tensor x = Tensor::from_vector<uint8_t>({0, 100, 200, 255}, {1, 1, 2, 2});
  auto y = run_both("Resize", 13, {fed(x), none(), scales({1, 1, 1, 2})}, {{"mode", as("nearest")}}, 0, 0);
  ASSERT_EQ(y[0].dtype(), DType::kU8);
  EXPECT_EQ(std::vector<uint8_t>(y[0].data<uint8_t>(), y[0].data<uint8_t>() + 8),
            (std::vector<uint8_t>{0, 0, 100, 100, 200, 200, 255, 255}));
  // int16 (the int16 nodes of the fixed-point model): the gather kernel, equal to the reference.
  Tensor x16 = Tensor::from_vector<int16_t>({-32768, -5, 7, 32767, 1000, -1000}, {1, 2, 1, 3});
  auto y16 = run_both("Resize", 13, {fed(x16), none(), scales({1, 1, 2, 2})}, {{"mode", as("nearest")}}, 0, 0);
  ASSERT_EQ(y16[0].dtype(), DType::kI16);
  EXPECT_EQ(std::vector<int16_t>(y16[0].data<int16_t>(), y16[0].data<int16_t>() + 12),
            (std::vector<int16_t>{-32768, -32768, -5, -5, 7, 7, -32768, -32768, -5, -5, 7, 7}));
  EXPECT_EQ(impl_of("Resize", 13, {fed(x16), none(), scales({1, 1, 2, 2})}), "gather");
}

TEST(ResizeOp, ErrorsNameTheProblem) {
  Tensor x = iota({1, 1, 2, 2});
  EXPECT_NE(run_error("Resize", 13, {fed(x), none(), scales({1, 2})}).find("scales"), std::string::npos);
  EXPECT_NE(run_error("Resize", 13, {fed(x), none(), scales({1, 1, 2, 2}), sizes({1, 1, 4, 4})}).find("exactly one"),
            std::string::npos);
  EXPECT_NE(run_error("Resize", 13, {fed(x), none(), scales({1, 1, 2, 2})}, {{"mode", as("bicubic")}}).find("mode"),
            std::string::npos);
  EXPECT_NE(run_error("Resize", 13, {fed(x), none(), scales({1, 1, -2, 2})}).find("positive"), std::string::npos);
  EXPECT_NE(run_error("Resize", 18, {fed(x), none(), none(), sizes({3, 3})},
                      {{"axes", ais({2, 3})}, {"keep_aspect_ratio_policy", as("fit")}})
                .find("keep_aspect_ratio_policy"),
            std::string::npos);
  EXPECT_NE(run_error("Upsample", 7, {fed(x)}).find("scales"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
