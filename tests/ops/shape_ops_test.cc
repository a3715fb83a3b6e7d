// Op-level tests of Reshape, Flatten, Squeeze, Unsqueeze, Identity, Shape, Constant, ConstantOfShape and Dropout.
#include <gtest/gtest.h>

#include "core/half.h"
#include "movement_test_util.h"
#include "test_util.h"

namespace kaiwu::test {
namespace {

Tensor i64s(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}); }

TEST(Reshape, ZeroMinusOneAndAllowzero) {
  Tensor x = iota_tensor<float>({2, 3, 4});
  Tensor y = run_ok(OneNode{"Reshape", 13, {fed(x), constant(i64s({0, -1, 2}))}})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(values_of<float>(y), values_of<float>(x));
  Tensor e = Tensor::zeros(DType::kF32, {0, 3});
  Tensor z = run_ok(OneNode{"Reshape", 14, {fed(e), constant(i64s({3, 0}))}, {{"allowzero", i64(1)}}})[0];
  EXPECT_EQ(z.shape(), (Shape{3, 0}));
  EXPECT_NE(run_error(OneNode{"Reshape", 13, {fed(x), constant(i64s({-1, -1}))}}).find("more than one -1"), std::string::npos);
  EXPECT_NE(run_error(OneNode{"Reshape", 13, {fed(x), constant(i64s({5, -1}))}}).find("cannot reshape"), std::string::npos);
  // The shape computed at run time (dynamic planning).
  Tensor w = run_ok(OneNode{"Reshape", 13, {fed(x), fed(i64s({4, 6}))}})[0];
  EXPECT_EQ(w.shape(), (Shape{4, 6}));
}

TEST(Flatten, AxesIncludingRankAndNegative) {
  Tensor x = iota_tensor<int32_t>({2, 3, 4});
  EXPECT_EQ(run_ok(OneNode{"Flatten", 13, {fed(x)}, {{"axis", i64(0)}}})[0].shape(), (Shape{1, 24}));
  EXPECT_EQ(run_ok(OneNode{"Flatten", 13, {fed(x)}})[0].shape(), (Shape{2, 12}));
  EXPECT_EQ(run_ok(OneNode{"Flatten", 13, {fed(x)}, {{"axis", i64(3)}}})[0].shape(), (Shape{24, 1}));
  EXPECT_EQ(run_ok(OneNode{"Flatten", 13, {fed(x)}, {{"axis", i64(-1)}}})[0].shape(), (Shape{6, 4}));
  EXPECT_NE(run_error(OneNode{"Flatten", 13, {fed(x)}, {{"axis", i64(4)}}}).find("out of range"), std::string::npos);
}

TEST(Squeeze, AttrInputAndAllUnitDims) {
  Tensor x = iota_tensor<uint16_t>({1, 3, 1, 2});
  EXPECT_EQ(run_ok(OneNode{"Squeeze", 11, {fed(x)}, {{"axes", ints({-2})}}})[0].shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(run_ok(OneNode{"Squeeze", 13, {fed(x), constant(i64s({0}))}})[0].shape(), (Shape{3, 1, 2}));
  Tensor all = run_ok(OneNode{"Squeeze", 13, {fed(x)}})[0];
  EXPECT_EQ(all.shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of<uint16_t>(all), values_of<uint16_t>(x));
  EXPECT_EQ(run_ok(OneNode{"Squeeze", 13, {fed(x), constant(Tensor::zeros(DType::kI64, {0}))}})[0].shape(), (Shape{3, 2}));
  EXPECT_NE(run_error(OneNode{"Squeeze", 13, {fed(x), constant(i64s({1}))}}).find("cannot squeeze"), std::string::npos);
}

TEST(Unsqueeze, AttrInputUnsortedNegative) {
  Tensor x = iota_tensor<int8_t>({3, 4});
  EXPECT_EQ(run_ok(OneNode{"Unsqueeze", 11, {fed(x)}, {{"axes", ints({0, 3})}}})[0].shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(run_ok(OneNode{"Unsqueeze", 13, {fed(x), constant(i64s({3, -1, 0}))}})[0].shape(), (Shape{1, 3, 4, 1, 1}));
  EXPECT_NE(run_error(OneNode{"Unsqueeze", 13, {fed(x), constant(i64s({1, 1}))}}).find("more than once"), std::string::npos);
}

TEST(Identity, CopiesAnyDtype) {
  Tensor x = iota_tensor<bool>({5});
  Tensor y = run_ok(OneNode{"Identity", 16, {fed(x)}})[0];
  EXPECT_EQ(y.dtype(), DType::kBool);
  EXPECT_EQ(std::memcmp(y.raw(), x.raw(), 5), 0);
}

TEST(Shape, StartEndClamped) {
  Tensor x = Tensor::zeros(DType::kF16, {3, 4, 5});
  EXPECT_EQ(values_of<int64_t>(run_ok(OneNode{"Shape", 13, {fed(x)}})[0]), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(values_of<int64_t>(run_ok(OneNode{"Shape", 15, {fed(x)}, {{"start", i64(-2)}, {"end", i64(10)}}})[0]),
            (std::vector<int64_t>{4, 5}));
  Tensor e = run_ok(OneNode{"Shape", 15, {fed(x)}, {{"start", i64(2)}, {"end", i64(1)}}})[0];
  EXPECT_EQ(e.shape(), (Shape{0}));
}

TEST(Constant, AllValueKindsAndStringsRejected) {
  Tensor t = iota_tensor<int32_t>({2, 2});
  Tensor a = run_ok(OneNode{"Constant", 13, {}, {{"value", ir::Attribute::make_tensor(t)}}})[0];
  EXPECT_EQ(values_of<int32_t>(a), (std::vector<int32_t>{0, 1, 2, 3}));
  Tensor f = run_ok(OneNode{"Constant", 13, {}, {{"value_float", ir::Attribute::make_float(2.5f)}}})[0];
  EXPECT_EQ(f.shape(), Shape{});
  EXPECT_EQ(f.data<float>()[0], 2.5f);
  Tensor fs = run_ok(OneNode{"Constant", 13, {}, {{"value_floats", ir::Attribute::make_floats({1.5f})}}})[0];
  EXPECT_EQ(fs.shape(), Shape{1});
  Tensor i = run_ok(OneNode{"Constant", 13, {}, {{"value_int", i64(-7)}}})[0];
  EXPECT_EQ(i.dtype(), DType::kI64);
  EXPECT_EQ(i.data<int64_t>()[0], -7);
  Tensor is = run_ok(OneNode{"Constant", 13, {}, {{"value_ints", ints({4, 5, 6})}}})[0];
  EXPECT_EQ(values_of<int64_t>(is), (std::vector<int64_t>{4, 5, 6}));
  std::string err = run_error(OneNode{"Constant", 13, {}, {{"value_string", ir::Attribute::make_string("hi")}}});
  EXPECT_NE(err.find("string constants"), std::string::npos) << err;
  EXPECT_NE(run_error(OneNode{"Constant", 13, {}}).find("no value attribute"), std::string::npos);
}

TEST(ConstantOfShape, DefaultsAndTypedValue) {
  Tensor z = run_ok(OneNode{"ConstantOfShape", 9, {constant(i64s({2, 3}))}})[0];
  EXPECT_EQ(z.dtype(), DType::kF32);
  EXPECT_EQ(values_of<float>(z), std::vector<float>(6, 0.f));
  Tensor v = Tensor::empty(DType::kF16, {1});
  v.data<uint16_t>()[0] = float_to_half(-1.5f);
  Tensor h = run_ok(OneNode{"ConstantOfShape", 9, {fed(i64s({4}))}, {{"value", ir::Attribute::make_tensor(v)}}})[0];
  EXPECT_EQ(h.dtype(), DType::kF16);
  ASSERT_EQ(h.shape(), Shape{4});
  EXPECT_EQ(half_to_float(h.data<uint16_t>()[3]), -1.5f);
  Tensor s = run_ok(OneNode{"ConstantOfShape", 9, {constant(Tensor::zeros(DType::kI64, {0}))}})[0];
  EXPECT_EQ(s.shape(), Shape{});  // an empty shape gives a scalar
  EXPECT_NE(run_error(OneNode{"ConstantOfShape", 9, {constant(i64s({-1}))}}).find("negative"), std::string::npos);
}

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = random_f32({3, 4}, 9);
  auto o = run_ok(OneNode{"Dropout", 7, {fed(x)}, {{"ratio", ir::Attribute::make_float(0.3f)}}, 2});
  EXPECT_EQ(std::memcmp(o[0].raw(), x.raw(), x.nbytes()), 0);
  EXPECT_EQ(o[1].dtype(), DType::kF32);  // opset 7: the mask has the input's dtype
  EXPECT_EQ(values_of<float>(o[1]), std::vector<float>(12, 1.f));
  o = run_ok(OneNode{"Dropout", 13, {fed(x), fed(Tensor::from_vector<float>({0.5f}, {})), fed(Tensor::from_vector<bool>({false}, {}))}, {}, 2});
  EXPECT_EQ(std::memcmp(o[0].raw(), x.raw(), x.nbytes()), 0);
  EXPECT_EQ(o[1].dtype(), DType::kBool);
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(o[1].data<bool>()[i]);
}

TEST(Dropout, TrainingModeScalesKeptValues) {
  Tensor x = random_f32({50}, 10);
  auto o = run_ok(OneNode{"Dropout", 13, {fed(x), fed(Tensor::from_vector<float>({0.25f}, {})), fed(Tensor::from_vector<bool>({true}, {}))},
                          {{"seed", i64(3)}}, 2});
  int kept = 0;
  for (int i = 0; i < 50; ++i) {
    const bool k = o[1].data<bool>()[i];
    kept += k;
    EXPECT_FLOAT_EQ(o[0].data<float>()[i], k ? x.data<float>()[i] / 0.75f : 0.f) << i;
  }
  EXPECT_GT(kept, 25);
  EXPECT_LT(kept, 50);
  std::string err = run_error(OneNode{"Dropout", 13, {fed(x), fed(Tensor::from_vector<float>({1.f}, {})), fed(Tensor::from_vector<bool>({true}, {}))}});
  EXPECT_NE(err.find("ratio"), std::string::npos) << err;
}

}  // namespace
}  // namespace kaiwu::test
