// ReduceSum / ReduceMean / ReduceMax and ArgMax through the registry: axes as attribute or input across opsets,
// keepdims, noop_with_empty_axes, layouts of the fast path, integer types.
#include <cmath>

#include "elem_test_util.h"

namespace kaiwu {
namespace {

using namespace elemtest;

Tensor axes(std::vector<int64_t> v) { return tensor<int64_t>(v, {static_cast<int64_t>(v.size())}); }

// x = 0..23 as [2, 3, 4].
Tensor iota234() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
  return f32(v, {2, 3, 4});
}

TEST(ReduceOps, AxesAttributeBeforeInputOpset) {
  Tensor x = iota234();
  expect_near(run_both("ReduceSum", 11, {fed(x)}, {{"axes", ais({1})}}), {12, 15, 18, 21, 48, 51, 54, 57}, {2, 1, 4});
  expect_near(run_both("ReduceMean", 13, {fed(x)}, {{"axes", ais({-1})}, {"keepdims", ai(0)}}),
              {1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f}, {2, 3});
  expect_near(run_both("ReduceMax", 13, {fed(x)}, {{"axes", ais({0, 2})}}), {15, 19, 23}, {1, 3, 1});
  expect_near(run_both("ReduceMean", 11, {fed(x)}), {11.5f}, {1, 1, 1});  // all axes by default
}

TEST(ReduceOps, AxesInputFromOpset13Or18) {
  Tensor x = iota234();
  expect_near(run_both("ReduceSum", 13, {fed(x), konst(axes({0}))}, {{"keepdims", ai(0)}}),
              {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}, {3, 4});
  expect_near(run_both("ReduceMax", 18, {fed(x), konst(axes({1}))}), {8, 9, 10, 11, 20, 21, 22, 23}, {2, 1, 4});
  expect_near(run_both("ReduceMean", 18, {fed(x), konst(axes({0, 1, 2}))}, {{"keepdims", ai(0)}}), {11.5f}, {});
  // Omitted axes: all; empty axes with noop_with_empty_axes: identity.
  expect_near(run_both("ReduceSum", 13, {fed(x)}, {{"keepdims", ai(0)}}), {276}, {});
  Tensor same = run_both("ReduceSum", 13, {fed(x), konst(axes({}))}, {{"noop_with_empty_axes", ai(1)}});
  EXPECT_EQ(same.shape(), x.shape());
  EXPECT_EQ(values<float>(same), values<float>(x));
  // Axes fed at run time (shape known only then).
  expect_near(run_both("ReduceSum", 13, {fed(x), fed(axes({2}))}, {{"keepdims", ai(0)}}), {6, 22, 38, 54, 70, 86},
              {2, 3});
  EXPECT_NE(run_error("ReduceSum", 13, {fed(x), konst(axes({3}))}).find("out of range"), std::string::npos);
}

TEST(ReduceOps, FastLayoutsMatchReference) {
  // Global-pool-like (last axes), leading axis, middle axis, all axes, and a split pattern (reference fallback).
  Tensor x = test::random_f32({3, 40, 17, 19}, 11);
  const std::vector<int64_t> cases[] = {{2, 3}, {0}, {1}, {0, 1, 2, 3}, {0, 2}, {3}, {1, 2}};
  for (const auto& a : cases) {
    for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
      SCOPED_TRACE(std::string(op) + " axes " + shape_to_string(a));
      run_both(op, 13, {fed(x)}, {{"axes", ais(a)}}, 1e-5);
    }
  }
}

TEST(ReduceOps, IntegerAndDoubleTypes) {
  Tensor xi = tensor<int32_t>({1, -2, 3, 4, 5, -6}, {2, 3});
  EXPECT_EQ(values<int32_t>(run_both("ReduceSum", 13, {fed(xi), konst(axes({1}))}, {{"keepdims", ai(0)}})),
            (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(values<int32_t>(run_both("ReduceMax", 13, {fed(xi)}, {{"axes", ais({0})}, {"keepdims", ai(0)}})),
            (std::vector<int32_t>{4, 5, 3}));
  EXPECT_EQ(values<int32_t>(run_both("ReduceMean", 13, {fed(xi)}, {{"axes", ais({1})}, {"keepdims", ai(0)}})),
            (std::vector<int32_t>{0, 1}));  // 2/3 and 3/3 truncated
  Tensor xd = tensor<double>({0.5, 0.25, 1.0, 2.0}, {2, 2});
  Tensor yd = run_both("ReduceMean", 13, {fed(xd)}, {{"axes", ais({0})}});
  EXPECT_EQ(values<double>(yd), (std::vector<double>{0.75, 1.125}));
}

TEST(ReduceOps, ArgMax) {
  Tensor x = f32({1, 5, 5, 2, 7, 0, 7, 3}, {2, 4});
  auto i64v = [](const Tensor& t) {
    EXPECT_EQ(t.dtype(), DType::kI64);
    return values<int64_t>(t);
  };
  Tensor y = run_both("ArgMax", 13, {fed(x)}, {{"axis", ai(1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(i64v(y), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(i64v(run_both("ArgMax", 13, {fed(x)}, {{"axis", ai(-1)}, {"select_last_index", ai(1)}})),
            (std::vector<int64_t>{2, 2}));
  Tensor y0 = run_both("ArgMax", 13, {fed(x)}, {{"keepdims", ai(0)}});
  EXPECT_EQ(y0.shape(), (Shape{4}));
  EXPECT_EQ(i64v(y0), (std::vector<int64_t>{1, 0, 1, 1}));
  // Rows over a large last axis (like a CTC head) go through the parallel path.
  Tensor big = test::random_f32({40, 6625}, 5);
  big.data<float>()[3 * 6625 + 1234] = 5.f;
  Tensor yb = run_both("ArgMax", 13, {fed(big)}, {{"axis", ai(-1)}, {"keepdims", ai(0)}});
  EXPECT_EQ(yb.data<int64_t>()[3], 1234);
  EXPECT_EQ(i64v(run_both("ArgMax", 13, {fed(tensor<int8_t>({-3, 9, 9}, {3}))})), (std::vector<int64_t>{1}));
  EXPECT_NE(run_error("ArgMax", 13, {fed(x)}, {{"axis", ai(2)}}).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
