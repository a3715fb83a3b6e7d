// QLinearConv / ConvInteger / QLinearMatMul / MatMulInteger through the registry and GraphExecutor: hand-checked
// values, the oneDNN paths (constant or run-time weights and scales) against the reference (int32 outputs exact,
// requantized outputs within 1 LSB), fallbacks (per-channel zero points, broadcasting), and error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/x86/qconv_onednn.h"
#include "ops/op_def.h"
#include "quant_test_util.h"

namespace kaiwu::qtest {
namespace {

ir::Attribute ints(std::vector<int64_t> v) { return ir::Attribute::make_ints(std::move(v)); }

// Runs with the reference and the optimized kernels (1 and 2 threads); expects outputs within max_diff.
Tensor run_all(const Node& c, double max_diff) {
  return run_all_impls(c, [&](const Tensor& fast, const Tensor& ref, int threads) {
    double d = max_abs_diff(fast, ref);
    EXPECT_GE(d, 0) << "dtype/shape differ";
    EXPECT_LE(d, max_diff) << c.op << " threads " << threads;
  });
}

// Requantized outputs of oneDNN may differ from the reference by 1 LSB (float requantization); int32 never.
constexpr double kLsb = 1.0;

TEST(ConvInteger, HandComputed) {
  // x = 1..9 (3x3), w = all 1 (2x2), x_zp = 1: each output sums a 2x2 window of (x - 1).
  Tensor x = Tensor::from_vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2});
  Tensor y = run_all({"ConvInteger", 10, {fed(x), cst(w), cst(scalar<uint8_t>(1))}}, 0);
  ASSERT_EQ(y.dtype(), DType::kI32);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  const int32_t want[] = {8, 12, 20, 24};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<int32_t>()[i], want[i]);
  // Padding contributes the real value 0, i.e. the zero point.
  y = run_all({"ConvInteger", 10, {fed(x), cst(w), cst(scalar<uint8_t>(1))}, {{"pads", ints({1, 1, 1, 1})}}}, 0);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y.data<int32_t>()[0], 0);
  EXPECT_EQ(y.data<int32_t>()[5], 8);
}

TEST(ConvInteger, OnednnAndFallbacksMatchReference) {
  Tensor x = random_tensor<uint8_t>({2, 16, 11, 9}, 1, 0, 255);
  Tensor ws = random_tensor<int8_t>({24, 8, 3, 3}, 2, -128, 127);
  Tensor wu = random_tensor<uint8_t>({24, 8, 3, 3}, 3, 0, 255);
  const std::map<std::string, ir::Attribute> attrs = {{"group", ir::Attribute::make_int(2)},
                                                      {"strides", ints({2, 1})},
                                                      {"auto_pad", ir::Attribute::make_string("SAME_UPPER")}};
  // s8 weights, zero point 0 (oneDNN), constant and fed.
  run_all({"ConvInteger", 10, {fed(x), cst(ws), fed(scalar<uint8_t>(7))}, attrs}, 0);
  run_all({"ConvInteger", 10, {fed(x), fed(ws), cst(scalar<uint8_t>(0)), cst(scalar<int8_t>(0))}, attrs}, 0);
  // u8 weights with zero point 128 (shifted onto oneDNN) and per-channel non-neutral zero points (reference).
  run_all({"ConvInteger", 10, {fed(x), cst(wu), cst(scalar<uint8_t>(3)), cst(scalar<uint8_t>(128))}, attrs}, 0);
  Tensor wz = random_tensor<uint8_t>({24}, 4, 0, 255);
  run_all({"ConvInteger", 10, {fed(x), cst(wu), cst(scalar<uint8_t>(3)), fed(wz)}, attrs}, 0);
  // s8 activations, 1-D.
  Tensor x1 = random_tensor<int8_t>({3, 4, 30}, 5, -128, 127);
  Tensor w1 = random_tensor<int8_t>({5, 4, 4}, 6, -128, 127);
  run_all({"ConvInteger", 10, {fed(x1), cst(w1), cst(scalar<int8_t>(-2))}, {{"dilations", ints({3})}}}, 0);
}

// Builds QLinearConv inputs: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B.
Node qlinear_conv(const Tensor& x, const Tensor& w, bool constant, const Tensor& w_scale, const Tensor& w_zp,
                  const Tensor& bias, std::map<std::string, ir::Attribute> attrs, bool fed_scales = false) {
  auto k = [&](const Tensor& t) { return constant ? cst(t) : fed(t); };
  auto s = [&](const Tensor& t) { return fed_scales ? fed(t) : cst(t); };
  Tensor x_zp = x.dtype() == DType::kU8 ? scalar<uint8_t>(120) : scalar<int8_t>(-5);
  Tensor y_zp = x.dtype() == DType::kU8 ? scalar<uint8_t>(128) : scalar<int8_t>(3);
  return {"QLinearConv",
          10,
          {fed(x), s(scalar(0.05f)), cst(x_zp), k(w), s(w_scale), k(w_zp), s(scalar(0.4f)), cst(y_zp),
           bias.defined() ? k(bias) : none()},
          std::move(attrs)};
}

TEST(QLinearConv, HandComputed) {
  // 1x1 conv, one channel: y = round(((x - 100) * (w - 0)) * 0.5 * 0.25 / 0.125) + 10 = (x - 100) * w + 10.
  Tensor x = Tensor::from_vector<uint8_t>({100, 101, 105, 90}, {1, 1, 2, 2});
  Tensor w = Tensor::from_vector<int8_t>({3}, {1, 1, 1, 1});
  Node c{"QLinearConv", 10,
         {fed(x), cst(scalar(0.5f)), cst(scalar<uint8_t>(100)), cst(w), cst(Tensor::from_vector<float>({0.25f}, {1})),
          cst(Tensor::from_vector<int8_t>({0}, {1})), cst(scalar(0.125f)), cst(scalar<uint8_t>(10)),
          cst(Tensor::from_vector<int32_t>({2}, {1}))}};
  Tensor y = run_all(c, 0);
  ASSERT_EQ(y.dtype(), DType::kU8);
  const uint8_t want[] = {12, 15, 27, 0};  // (0 + 2) + 10, 3 + 2 + 10, 15 + 2 + 10, -30 + 2 + 10 -> 0
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<uint8_t>()[i], want[i]) << i;
}

TEST(QLinearConv, OnednnPathsMatchReference) {
  Tensor x = random_tensor<uint8_t>({1, 12, 10, 13}, 11, 0, 255);
  Tensor w = random_tensor<int8_t>({20, 12, 3, 3}, 12, -128, 127);
  Tensor ws = Tensor::empty(DType::kF32, {20});
  for (int i = 0; i < 20; ++i) ws.data<float>()[i] = 0.002f + 0.0003f * i;
  Tensor wz = Tensor::zeros(DType::kI8, {20});
  Tensor bias = random_tensor<int32_t>({20}, 13, -3000, 3000);
  const std::map<std::string, ir::Attribute> pads = {{"pads", ints({1, 0, 1, 2})}};
  run_all(qlinear_conv(x, w, true, ws, wz, bias, pads), kLsb);                 // fused, packed weights
  run_all(qlinear_conv(x, w, false, ws, wz, bias, pads), kLsb);                // fused, run-time weights
  run_all(qlinear_conv(x, w, true, ws, wz, bias, pads, true), 0);              // run-time scales: exact
  run_all(qlinear_conv(x, w, true, ws, wz, Tensor(), {}), kLsb);               // no bias
  // Per-tensor weight scale, s8 activations and output, depthwise with stride.
  Tensor xs = random_tensor<int8_t>({2, 8, 9, 9}, 14, -128, 127);
  Tensor wd = random_tensor<int8_t>({8, 1, 3, 3}, 15, -128, 127);
  run_all(qlinear_conv(xs, wd, true, scalar(0.01f), scalar<int8_t>(0), Tensor(),
                       {{"group", ir::Attribute::make_int(8)}, {"strides", ints({2, 2})}}),
          kLsb);
  // u8 weights: zero point 128 goes to oneDNN, others to the reference.
  Tensor wu = random_tensor<uint8_t>({20, 12, 3, 3}, 16, 0, 255);
  run_all(qlinear_conv(x, wu, true, ws, scalar<uint8_t>(128), bias, pads), kLsb);
  Tensor wzu = random_tensor<uint8_t>({20}, 17, 100, 150);
  run_all(qlinear_conv(x, wu, true, ws, wzu, bias, pads), 0);
}

TEST(QLinearConv, Errors) {
  Tensor x = random_tensor<uint8_t>({1, 4, 5, 5}, 1, 0, 255);
  Tensor w = random_tensor<int8_t>({6, 4, 3, 3}, 2, -128, 127);
  EXPECT_NE(run_error(qlinear_conv(x, w, true, Tensor::zeros(DType::kF32, {5}), scalar<int8_t>(0), Tensor(), {}))
                .find("w_scale must be a scalar or have one value per output channel"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_conv(x, w, true, scalar(1.f), scalar<int8_t>(0), Tensor::zeros(DType::kI32, {5}), {}))
                .find("B must be int32 of shape [6]"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_conv(x, random_tensor<int8_t>({6, 3, 3, 3}, 3, -1, 1), true, scalar(1.f),
                                   scalar<int8_t>(0), Tensor(), {}))
                .find("does not match"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_conv(x, w, true, scalar(1.f), scalar<uint8_t>(0), Tensor(), {}))
                .find("w_zero_point has type"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_conv(x, w, true, scalar(1.f), scalar<int8_t>(0), Tensor(), {{"pads", ints({-1, 0, 0, 0})}}))
                .find("negative pads"),
            std::string::npos);
  EXPECT_NE(run_error({"ConvInteger", 10, {fed(Tensor::zeros(DType::kF32, {1, 1, 3, 3})), cst(w)}}).find("uint8 or int8"),
            std::string::npos);
}

TEST(MatMulInteger, HandComputed) {
  // The ONNX example: A 4x3, B 3x2, a_zp 12, b_zp 0.
  Tensor a = Tensor::from_vector<uint8_t>({11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, {4, 3});
  Tensor b = Tensor::from_vector<uint8_t>({1, 4, 2, 5, 3, 6}, {3, 2});
  Tensor y = run_all({"MatMulInteger", 10, {fed(a), cst(b), cst(Tensor::from_vector<uint8_t>({12}, {1})),
                                            cst(Tensor::from_vector<uint8_t>({0}, {1}))}},
                     0);
  const int32_t want[] = {-38, -83, -44, -98, -50, -113, -56, -128};
  ASSERT_EQ(y.shape(), (Shape{4, 2}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y.data<int32_t>()[i], want[i]);
}

TEST(MatMulInteger, LayoutsAndZeroPointsMatchReference) {
  Tensor a = random_tensor<uint8_t>({2, 3, 17, 40}, 1, 0, 255);
  Tensor b = random_tensor<int8_t>({40, 23}, 2, -128, 127);
  run_all({"MatMulInteger", 10, {fed(a), cst(b), fed(scalar<uint8_t>(131))}}, 0);                      // flattened 2-D
  run_all({"MatMulInteger", 10, {fed(a), fed(b), fed(scalar<uint8_t>(0)), fed(scalar<int8_t>(4))}}, 0);  // fed B
  Tensor bb = random_tensor<uint8_t>({2, 3, 40, 5}, 3, 0, 255);
  run_all({"MatMulInteger", 10, {fed(a), fed(bb), none(), cst(scalar<uint8_t>(99))}}, 0);                 // batched
  Tensor b2 = random_tensor<int8_t>({3, 40, 6}, 4, -128, 127);
  run_all({"MatMulInteger", 10, {fed(random_tensor<int8_t>({2, 1, 9, 40}, 5, -128, 127)), cst(b2)}}, 0);  // broadcast
  // Per-row a and per-column b zero points (reference).
  run_all({"MatMulInteger", 10, {fed(a), cst(b), cst(random_tensor<uint8_t>({17}, 6, 0, 255)),
                                 cst(random_tensor<int8_t>({23}, 7, -128, 127))}},
          0);
  // 1-D operands.
  Tensor v = random_tensor<int8_t>({40}, 8, -128, 127);
  Tensor y = run_all({"MatMulInteger", 10, {fed(v), cst(b)}}, 0);
  EXPECT_EQ(y.shape(), (Shape{23}));
  y = run_all({"MatMulInteger", 10, {fed(a), cst(v)}}, 0);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 17}));
}

Node qlinear_matmul(const Tensor& a, const In& a_scale, const In& a_zp, const In& b, const In& b_scale, const In& b_zp,
                    DType yt) {
  Tensor y_zp = yt == DType::kU8 ? scalar<uint8_t>(118) : scalar<int8_t>(-7);
  return {"QLinearMatMul", 10, {fed(a), a_scale, a_zp, b, b_scale, b_zp, cst(scalar(0.05f)), cst(y_zp)}};
}

TEST(QLinearMatMul, HandComputed) {
  // The ONNX 2-D example.
  Tensor a = Tensor::from_vector<uint8_t>({208, 236, 0, 238, 3, 214, 255, 29}, {2, 4});
  Tensor b = Tensor::from_vector<uint8_t>({152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247}, {4, 3});
  Node c{"QLinearMatMul", 10,
         {fed(a), cst(Tensor::from_vector<float>({0.0066f}, {1})), cst(Tensor::from_vector<uint8_t>({113}, {1})),
          cst(b), cst(Tensor::from_vector<float>({0.00705f}, {1})), cst(Tensor::from_vector<uint8_t>({114}, {1})),
          cst(Tensor::from_vector<float>({0.0107f}, {1})), cst(Tensor::from_vector<uint8_t>({118}, {1}))}};
  Tensor y = run_all(c, 0);
  const uint8_t want[] = {168, 115, 255, 1, 66, 151};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<uint8_t>()[i], want[i]) << i;
}

TEST(QLinearMatMul, OnednnPathsMatchReference) {
  Tensor a = random_tensor<uint8_t>({3, 19, 64}, 21, 0, 255);
  Tensor b = random_tensor<int8_t>({64, 33}, 22, -128, 127);
  Tensor bcol = Tensor::empty(DType::kF32, {33});
  for (int i = 0; i < 33; ++i) bcol.data<float>()[i] = 0.0004f + 0.00002f * i;
  In as = cst(scalar(0.02f)), az = cst(scalar<uint8_t>(125));
  run_all(qlinear_matmul(a, as, az, cst(b), cst(scalar(0.0005f)), cst(scalar<int8_t>(0)), DType::kU8), kLsb);
  run_all(qlinear_matmul(a, as, az, cst(b), cst(bcol), cst(scalar<int8_t>(3)), DType::kI8), kLsb);  // per column
  run_all(qlinear_matmul(a, as, fed(scalar<uint8_t>(1)), fed(b), fed(bcol), fed(scalar<int8_t>(-2)), DType::kU8), 0);
  Tensor bu = random_tensor<uint8_t>({3, 64, 7}, 23, 0, 255);  // batched, u8 B
  run_all(qlinear_matmul(a, as, az, cst(bu), cst(scalar(0.0006f)), cst(scalar<uint8_t>(128)), DType::kU8), kLsb);
  // Per-row a scales and zero points (reference), N-D [..., M, 1] shape.
  Tensor arow = Tensor::empty(DType::kF32, {1, 19, 1});
  for (int i = 0; i < 19; ++i) arow.data<float>()[i] = 0.01f + 0.001f * i;
  run_all(qlinear_matmul(a, cst(arow), cst(random_tensor<uint8_t>({1, 19, 1}, 24, 0, 255)), cst(b), cst(bcol),
                         cst(scalar<int8_t>(0)), DType::kU8),
          0);
}

TEST(QLinearMatMul, Errors) {
  Tensor a = random_tensor<uint8_t>({4, 8}, 1, 0, 255);
  Tensor b = random_tensor<int8_t>({8, 5}, 2, -128, 127);
  EXPECT_NE(run_error(qlinear_matmul(a, cst(Tensor::zeros(DType::kF32, {3})), cst(scalar<uint8_t>(0)), cst(b),
                                     cst(scalar(1.f)), cst(scalar<int8_t>(0)), DType::kU8))
                .find("a_scale of shape [3]"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_matmul(a, cst(scalar(1.f)), cst(scalar<uint8_t>(0)), cst(random_tensor<int8_t>({7, 5}, 3, 0, 1)),
                                     cst(scalar(1.f)), cst(scalar<int8_t>(0)), DType::kU8))
                .find("inner dimensions differ"),
            std::string::npos);
  EXPECT_NE(run_error(qlinear_matmul(a, cst(scalar(1.f)), cst(scalar<uint8_t>(0)), cst(b), cst(scalar(1.f)),
                                     cst(Tensor::zeros(DType::kI8, {4})), DType::kU8))
                .find("b_zero_point of shape [4]"),
            std::string::npos);
}

// The implementation the registry picks: oneDNN where it applies, the reference otherwise.
std::string impl_of(const std::string& op, const std::vector<const Tensor*>& values, const std::vector<DType>& dtypes,
                    const std::vector<Shape>& shapes, bool reference_only) {
  ir::Node n;
  n.name = "k";
  n.op_type = op;
  n.outputs = {"y"};
  std::vector<ops::TensorDesc> in;
  for (size_t i = 0; i < dtypes.size(); ++i) {
    n.inputs.push_back("i" + std::to_string(i));
    in.push_back({dtypes[i], shapes[i]});
  }
  const ops::OpDef* def = ops::find_op("", op);
  ops::InferContext ctx(n, 10, in, values);
  Status st = def->infer(ctx);
  EXPECT_TRUE(st.ok()) << st.to_string();
  ops::KernelInit init{n, 10, in, ctx.outputs, values, 1, reference_only};
  std::unique_ptr<ops::Kernel> k;
  st = def->create(init, &k);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return k ? k->impl_name() : "";
}

TEST(QLinearConv, SelectsOnednnWhereItApplies) {
  if (!kernels::x86::QConvOnednn::types_supported(DType::kU8, DType::kI8, DType::kU8)) GTEST_SKIP() << "no VNNI";
  Tensor xs = scalar(0.1f), xz = scalar<uint8_t>(3), w = random_tensor<int8_t>({4, 2, 3, 3}, 1, -128, 127);
  Tensor ws = scalar(0.01f), wz0 = Tensor::zeros(DType::kI8, {4}), ys = scalar(0.2f), yz = scalar<uint8_t>(0);
  Tensor wz1 = Tensor::from_vector<int8_t>({0, 1, 0, 0}, {4});
  const std::vector<DType> dt = {DType::kU8, DType::kF32, DType::kU8, DType::kI8, DType::kF32, DType::kI8, DType::kF32, DType::kU8};
  const std::vector<Shape> sh = {{1, 2, 6, 6}, {}, {}, {4, 2, 3, 3}, {}, {4}, {}, {}};
  EXPECT_EQ(impl_of("QLinearConv", {nullptr, &xs, &xz, &w, &ws, &wz0, &ys, &yz}, dt, sh, false), "onednn");
  EXPECT_EQ(impl_of("QLinearConv", {nullptr, &xs, &xz, &w, &ws, &wz0, &ys, &yz}, dt, sh, true), "ref");
  EXPECT_EQ(impl_of("QLinearConv", {nullptr, &xs, &xz, &w, &ws, &wz1, &ys, &yz}, dt, sh, false), "ref");
  // Run-time weights and scales still use oneDNN (int32 output, requantized by the AVX-512 kernel).
  EXPECT_EQ(impl_of("QLinearConv", std::vector<const Tensor*>(8, nullptr), dt, sh, false), "onednn");
  EXPECT_EQ(impl_of("MatMulInteger", {nullptr, nullptr}, {DType::kU8, DType::kI8}, {{5, 7}, {7, 3}}, false), "onednn");
  EXPECT_EQ(impl_of("MatMulInteger", {nullptr, nullptr, nullptr}, {DType::kU8, DType::kI8, DType::kU8},
                    {{5, 7}, {7, 3}, {5}}, false),
            "ref");  // per-row a zero point
}

}  // namespace
}  // namespace kaiwu::qtest
