// Op-level tests of Concat, Split, Slice, Transpose, Gather, Pad, Expand, Tile, DepthToSpace and SpaceToDepth:
// expected values computed here by naive index loops; every case also checks reference == optimized kernels.
#include <gtest/gtest.h>

#include "movement_test_util.h"
#include "test_util.h"

namespace kaiwu::test {
namespace {

TEST(Transpose, NchwToNhwcAndDefaultPerm) {
  const Shape s = {2, 5, 7, 9};
  Tensor x = random_f32(s, 1);
  OneNode c{"Transpose", 13, {fed(x)}, {{"perm", ints({0, 2, 3, 1})}}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 7, 9, 5}));
  const float* xv = x.data<float>();
  const float* yv = y.data<float>();
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 7; ++h)
      for (int w = 0; w < 9; ++w)
        for (int ch = 0; ch < 5; ++ch) ASSERT_EQ(yv[((n * 7 + h) * 9 + w) * 5 + ch], xv[((n * 5 + ch) * 7 + h) * 9 + w]);
  OneNode d{"Transpose", 13, {fed(iota_tensor<int16_t>({2, 3, 4}))}};
  Tensor z = run_ok(d)[0];
  ASSERT_EQ(z.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(values_of<int16_t>(z)[1], 12);  // z[0,0,1] = x[1,0,0]
  EXPECT_EQ(values_of<int16_t>(z)[2], 4);   // z[0,1,0] = x[0,1,0]
  c.attrs["perm"] = ints({0, 0, 1, 2});
  EXPECT_NE(run_error(c).find("not a permutation"), std::string::npos);
}

TEST(Concat, ChannelsOfInt8AndNegativeAxis) {
  Tensor a = iota_tensor<int8_t>({2, 1, 3}), b = iota_tensor<int8_t>({2, 2, 3});
  OneNode c{"Concat", 13, {fed(a), constant(b)}, {{"axis", i64(-2)}}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(values_of<int8_t>(y), (std::vector<int8_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  OneNode bad{"Concat", 13, {fed(a), fed(iota_tensor<int8_t>({3, 1, 3}))}, {{"axis", i64(1)}}};
  EXPECT_NE(run_error(bad).find("incompatible"), std::string::npos);
}

TEST(Concat, EmptyInputAndLargeChannels) {
  Tensor a = random_f32({1, 40, 33, 35}, 2), e = Tensor::zeros(DType::kF32, {1, 0, 33, 35}), b = random_f32({1, 24, 33, 35}, 3);
  Tensor y = run_ok(OneNode{"Concat", 13, {fed(a), fed(e), fed(b)}, {{"axis", i64(1)}}})[0];
  ASSERT_EQ(y.shape(), (Shape{1, 64, 33, 35}));
  EXPECT_EQ(std::memcmp(y.raw(), a.raw(), a.nbytes()), 0);
  EXPECT_EQ(std::memcmp(y.data<float>() + a.numel(), b.raw(), b.nbytes()), 0);
}

TEST(Split, AttrInputAndNumOutputs) {
  Tensor x = iota_tensor<float>({2, 5});
  // opset 11: split attribute
  auto o = run_ok(OneNode{"Split", 11, {fed(x)}, {{"axis", i64(1)}, {"split", ints({1, 4})}}, 2});
  ASSERT_EQ(o[1].shape(), (Shape{2, 4}));
  EXPECT_EQ(values_of<float>(o[1]), (std::vector<float>{1, 2, 3, 4, 6, 7, 8, 9}));
  // opset 13: split input (int32 is accepted too)
  o = run_ok(OneNode{"Split", 13, {fed(x), constant(Tensor::from_vector<int64_t>({3, 2}))}, {{"axis", i64(-1)}}, 2});
  EXPECT_EQ(values_of<float>(o[0]), (std::vector<float>{0, 1, 2, 5, 6, 7}));
  // opset 18: num_outputs with an uneven last chunk (5 -> 2, 2, 1)
  o = run_ok(OneNode{"Split", 18, {fed(x)}, {{"axis", i64(1)}, {"num_outputs", i64(3)}}, 3});
  EXPECT_EQ(o[2].shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<float>(o[2]), (std::vector<float>{4, 9}));
  // before 18, equal parts must divide the dim
  EXPECT_NE(run_error(OneNode{"Split", 13, {fed(x)}, {{"axis", i64(1)}}, 2}).find("equal parts"), std::string::npos);
  EXPECT_NE(run_error(OneNode{"Split", 11, {fed(x)}, {{"axis", i64(1)}, {"split", ints({1, 1})}}, 2}).find("add up"),
            std::string::npos);
}

// Naive slice of a 3-d iota tensor, for checks.
std::vector<float> naive_slice(const Shape& s, std::vector<int64_t> start, std::vector<int64_t> step, const Shape& cnt) {
  std::vector<float> v;
  for (int64_t i = 0; i < cnt[0]; ++i)
    for (int64_t j = 0; j < cnt[1]; ++j)
      for (int64_t k = 0; k < cnt[2]; ++k)
        v.push_back(static_cast<float>(((start[0] + i * step[0]) * s[1] + start[1] + j * step[1]) * s[2] + start[2] + k * step[2]));
  return v;
}

TEST(Slice, NegativeStepsClampingAndInt32Inputs) {
  const Shape s = {6, 7, 8};
  Tensor x = iota_tensor<float>(s);
  auto i32 = [](std::vector<int32_t> v) { return constant(Tensor::from_vector<int32_t>(v, {static_cast<int64_t>(v.size())})); };
  // axes [2, 0]: dim 2 from 100 (clamped to 7) down to -100 (clamped to before 0) step -3; dim 0 from -4 to 5 step 2.
  OneNode c{"Slice", 13, {fed(x), i32({100, -4}), i32({-100, 5}), i32({2, 0}), i32({-3, 2})}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 7, 3}));
  EXPECT_EQ(values_of<float>(y), naive_slice(s, {2, 0, 7}, {2, 1, -3}, {2, 7, 3}));
  // opset 9 attributes; an empty result when start >= end
  OneNode d{"Slice", 9, {fed(x)}, {{"starts", ints({1, 5})}, {"ends", ints({3, 5})}, {"axes", ints({0, 1})}}};
  Tensor z = run_ok(d)[0];
  EXPECT_EQ(z.shape(), (Shape{2, 0, 8}));
  // steps of 0 are rejected
  OneNode bad{"Slice", 13, {fed(x), i32({0}), i32({1}), i32({0}), i32({0})}};
  EXPECT_NE(run_error(bad).find("steps"), std::string::npos);
}

TEST(Slice, ValueOnlyKnownAtRunTime) {
  Tensor x = iota_tensor<int64_t>({10});
  OneNode c{"Slice", 13, {fed(x), fed(Tensor::from_vector<int64_t>({2}, {1})), fed(Tensor::from_vector<int64_t>({8}, {1}))}};
  Tensor y = run_ok(c)[0];
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{2, 3, 4, 5, 6, 7}));
}

TEST(Gather, AxesScalarAndNegativeIndices) {
  Tensor x = iota_tensor<double>({3, 4, 2});
  OneNode c{"Gather", 13, {fed(x), fed(Tensor::from_vector<int32_t>({-1, 0}, {2}))}, {{"axis", i64(1)}}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(values_of<double>(y), (std::vector<double>{6, 7, 0, 1, 14, 15, 8, 9, 22, 23, 16, 17}));
  OneNode s{"Gather", 13, {fed(x), fed(Tensor::from_vector<int64_t>({2}, {}))}};  // scalar index drops the axis
  Tensor z = run_ok(s)[0];
  ASSERT_EQ(z.shape(), (Shape{4, 2}));
  EXPECT_EQ(values_of<double>(z)[0], 16);
  OneNode bad{"Gather", 13, {fed(x), fed(Tensor::from_vector<int64_t>({3}, {1}))}};
  EXPECT_NE(run_error(bad).find("out of range"), std::string::npos);
}

TEST(Pad, ModesAttrsInputsAndAxes) {
  Tensor x = iota_tensor<int32_t>({2, 3});
  auto pads = [](std::vector<int64_t> v) { return constant(Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())})); };
  // opset 2 attributes, constant value 7
  OneNode a{"Pad", 2, {fed(x)}, {{"pads", ints({0, 1, 1, 0})}, {"value", ir::Attribute::make_float(7.f)}}};
  EXPECT_EQ(values_of<int32_t>(run_ok(a)[0]), (std::vector<int32_t>{7, 0, 1, 2, 7, 3, 4, 5, 7, 7, 7, 7}));
  // opset 13 reflect on the last axis
  OneNode r{"Pad", 13, {fed(x), pads({0, 2, 0, 1})}, {{"mode", ir::Attribute::make_string("reflect")}}};
  EXPECT_EQ(values_of<int32_t>(run_ok(r)[0]), (std::vector<int32_t>{2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4}));
  // opset 18 axes input and a constant_value input; negative pad crops
  OneNode e{"Pad", 18, {fed(x), pads({1, -1}), fed(Tensor::from_vector<int32_t>({-5}, {})), constant(Tensor::from_vector<int64_t>({-1}, {1}))}};
  Tensor y = run_ok(e)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{-5, 0, 1, -5, 3, 4}));
  // opset 19 wrap, edge
  OneNode w{"Pad", 19, {fed(x), pads({0, 1, 0, 2})}, {{"mode", ir::Attribute::make_string("wrap")}}};
  EXPECT_EQ(values_of<int32_t>(run_ok(w)[0]), (std::vector<int32_t>{2, 0, 1, 2, 0, 1, 5, 3, 4, 5, 3, 4}));
  OneNode g{"Pad", 13, {fed(x), pads({1, 0, 0, 0})}, {{"mode", ir::Attribute::make_string("edge")}}};
  EXPECT_EQ(values_of<int32_t>(run_ok(g)[0]), (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 3, 4, 5}));
  OneNode bad{"Pad", 13, {fed(x), pads({0, 0, 0, -4})}};
  EXPECT_NE(run_error(bad).find("crop"), std::string::npos);
}

TEST(Pad, LargeNchwFloatMatchesBetweenImpls) {
  Tensor x = random_f32({1, 16, 31, 29}, 4);
  auto pads = constant(Tensor::from_vector<int64_t>({0, 0, 1, 2, 0, 0, 3, 1}, {8}));
  for (const char* mode : {"constant", "reflect", "edge"}) {
    Tensor y = run_ok(OneNode{"Pad", 13, {fed(x), pads, fed(Tensor::from_vector<float>({0.5f}, {}))},
                              {{"mode", ir::Attribute::make_string(mode)}}})[0];
    ASSERT_EQ(y.shape(), (Shape{1, 16, 35, 32}));
    EXPECT_EQ(y.data<float>()[35 * 32 + 32 + 2], x.data<float>()[31 * 29]) << mode;  // [0,1,1,2] = x[0,1,0,0]
  }
}

TEST(Expand, BidirectionalBroadcast) {
  Tensor x = iota_tensor<uint8_t>({3, 1});
  OneNode c{"Expand", 13, {fed(x), constant(Tensor::from_vector<int64_t>({2, 1, 4}, {3}))}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(values_of<uint8_t>(y)[5], 1);
  EXPECT_EQ(values_of<uint8_t>(y)[23], 2);
  OneNode bad{"Expand", 13, {fed(x), constant(Tensor::from_vector<int64_t>({2, 2}, {2}))}};
  EXPECT_NE(run_error(bad).find("broadcast"), std::string::npos);
}

TEST(Tile, RepeatsEveryDim) {
  Tensor x = iota_tensor<bool>({1, 2});
  OneNode c{"Tile", 13, {fed(x), constant(Tensor::from_vector<int64_t>({2, 3}, {2}))}};
  Tensor y = run_ok(c)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 6}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y.data<bool>()[i], i % 2 == 1) << i;
  Tensor f = iota_tensor<float>({2, 3});
  Tensor z = run_ok(OneNode{"Tile", 13, {fed(f), constant(Tensor::from_vector<int64_t>({2, 2}, {2}))}})[0];
  EXPECT_EQ(values_of<float>(z), (std::vector<float>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
}

TEST(DepthToSpace, DcrCrdAndInverseOfSpaceToDepth) {
  const int64_t b = 2, c = 3, h = 4, w = 5;
  Tensor x = iota_tensor<float>({1, c * b * b, h, w});
  for (const char* mode : {"DCR", "CRD"}) {
    Tensor y = run_ok(OneNode{"DepthToSpace", 13, {fed(x)}, {{"blocksize", i64(b)}, {"mode", ir::Attribute::make_string(mode)}}})[0];
    ASSERT_EQ(y.shape(), (Shape{1, c, h * b, w * b}));
    const bool crd = std::string(mode) == "CRD";
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h * b; ++i)
        for (int64_t j = 0; j < w * b; ++j) {
          const int64_t bi = i % b, bj = j % b;
          const int64_t src_c = crd ? ch * b * b + bi * b + bj : (bi * b + bj) * c + ch;
          ASSERT_EQ(y.data<float>()[(ch * h * b + i) * w * b + j], static_cast<float>((src_c * h + i / b) * w + j / b)) << mode;
        }
    if (!crd) {  // SpaceToDepth inverts DCR
      Tensor z = run_ok(OneNode{"SpaceToDepth", 13, {fed(y)}, {{"blocksize", i64(b)}}})[0];
      ASSERT_EQ(z.shape(), x.shape());
      EXPECT_EQ(std::memcmp(z.raw(), x.raw(), x.nbytes()), 0);
    }
  }
  EXPECT_NE(run_error(OneNode{"SpaceToDepth", 13, {fed(x)}, {{"blocksize", i64(3)}}}).find("multiples"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu::test
