// QuantizeLinear / DequantizeLinear through the registry and GraphExecutor: values, opset variants (10 per-tensor,
// 13 per-axis, 19 f16 / int32), error messages, and reference vs AVX-512 kernels on 1 and 2 threads (bit-exact).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/qmath.h"
#include "quant_test_util.h"

namespace kaiwu::qtest {
namespace {

using qmath::QType;

// Runs with the reference and the optimized kernels (1 and 2 threads); expects identical bytes; returns the output.
Tensor run_all(const Node& c) {
  return run_all_impls(c, [&](const Tensor& fast, const Tensor& ref, int threads) {
    EXPECT_EQ(fast.dtype(), ref.dtype());
    EXPECT_EQ(fast.shape(), ref.shape());
    if (fast.nbytes() == ref.nbytes()) {
      EXPECT_EQ(0, std::memcmp(fast.raw(), ref.raw(), ref.nbytes())) << c.op << " threads " << threads;
    }
  });
}

TEST(QuantizeLinear, Opset10PerTensorDefaultsToUint8) {
  Tensor x = Tensor::from_vector<float>({0.f, 2.f, 3.f, 1000.f, -254.f, -1000.f});
  Tensor y = run_all({"QuantizeLinear", 10, {fed(x), cst(scalar(2.f)), none()}});
  ASSERT_EQ(y.dtype(), DType::kU8);
  const uint8_t want[] = {0, 1, 2, 255, 0, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<uint8_t>()[i], want[i]) << i;
  y = run_all({"QuantizeLinear", 10, {fed(x), fed(scalar(2.f)), fed(scalar<uint8_t>(128))}});
  const uint8_t want2[] = {128, 129, 130, 255, 1, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<uint8_t>()[i], want2[i]) << i;
}

TEST(QuantizeLinear, PerAxisMatchesScalarDefinition) {
  const Shape shape = {2, 3, 5, 7};
  Tensor x = Tensor::empty(DType::kF32, shape);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::sin(i * 0.37f) * 40.f;
  Tensor scales = Tensor::from_vector<float>({0.1f, 0.25f, 0.5f}, {3});
  Tensor zps = Tensor::from_vector<int8_t>({-10, 0, 7}, {3});
  for (int64_t axis : {1, -3}) {
    Node c{"QuantizeLinear", 13, {fed(x), cst(scales), cst(zps)}, {{"axis", ir::Attribute::make_int(axis)}}};
    Tensor y = run_all(c);
    ASSERT_EQ(y.dtype(), DType::kI8);
    for (int64_t i = 0; i < x.numel(); ++i) {
      int64_t ch = (i / 35) % 3;
      ASSERT_EQ(y.data<int8_t>()[i], qmath::quantize_value(x.data<float>()[i], scales.data<float>()[ch],
                                                           zps.data<int8_t>()[ch], qmath::qrange(QType::kInt8)));
    }
  }
  // Per-axis on the last axis, zero point omitted (uint8, 0).
  Tensor s4 = Tensor::from_vector<float>({1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f}, {7});
  Tensor y = run_all({"QuantizeLinear", 13, {fed(x), fed(s4)}, {{"axis", ir::Attribute::make_int(3)}}});
  for (int64_t i = 0; i < x.numel(); ++i)
    ASSERT_EQ(y.data<uint8_t>()[i],
              qmath::quantize_value(x.data<float>()[i], float(i % 7 + 1), 0, qmath::qrange(QType::kUInt8)));
}

TEST(QuantizeLinear, LargeTensorsAgreeAcrossImplementations) {
  Tensor x = Tensor::empty(DType::kF32, {1, 8, 67, 65});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::cos(i * 0.011f) * 9.f + (i % 97 == 0 ? NAN : 0.f);
  run_all({"QuantizeLinear", 13, {fed(x), cst(scalar(0.05f)), cst(scalar<uint8_t>(120))}});
  run_all({"QuantizeLinear", 13, {fed(x), fed(scalar(0.05f)), fed(scalar<int16_t>(-3))}});
  Tensor s8 = Tensor::from_vector<float>({0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f}, {8});
  Tensor z8 = Tensor::from_vector<uint16_t>({0, 10, 100, 1000, 10000, 30000, 60000, 65535}, {8});
  Tensor y = run_all({"QuantizeLinear", 13, {fed(x), cst(s8), cst(z8)}});
  EXPECT_EQ(y.dtype(), DType::kU16);
}

TEST(QuantizeLinear, Opset19Float16AndInt32Inputs) {
  std::vector<uint16_t> xh = {float_to_half(1.f), float_to_half(-2.f), float_to_half(4.5f), float_to_half(100.f)};
  Tensor x = Tensor::empty(DType::kF16, {4});
  std::memcpy(x.raw(), xh.data(), 8);
  Tensor s = Tensor::empty(DType::kF16, {});
  *s.data<uint16_t>() = float_to_half(1.8f);
  Tensor y = run_all({"QuantizeLinear", 19, {fed(x), fed(s), fed(scalar<int8_t>(1))}, {{"saturate", ir::Attribute::make_int(1)}}});
  // f16 quotients 0.5557, -1.111, 2.5 (a tie: 2), 55.56.
  const int8_t want[] = {2, 0, 3, 57};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<int8_t>()[i], want[i]) << i;
  Tensor xi = Tensor::from_vector<int32_t>({-1000, 7, 2147483647});
  y = run_all({"QuantizeLinear", 19, {fed(xi), cst(scalar(4.f)), cst(scalar<uint8_t>(100))}});
  EXPECT_EQ(y.data<uint8_t>()[0], 0);
  EXPECT_EQ(y.data<uint8_t>()[1], 102);  // 1.75 -> 2
  EXPECT_EQ(y.data<uint8_t>()[2], 255);
}

TEST(QuantizeLinear, Errors) {
  Tensor x = Tensor::zeros(DType::kF32, {2, 3, 4});
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(Tensor::zeros(DType::kF32, {3, 1}))}}).find("scalar or a 1-D"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(Tensor::zeros(DType::kF32, {4}))}}).find("has 3"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(Tensor::zeros(DType::kF32, {3})), cst(scalar<uint8_t>(0))},
                       {{"axis", ir::Attribute::make_int(1)}}})
                .find("zero point shape"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(Tensor::zeros(DType::kF32, {3}))},
                       {{"axis", ir::Attribute::make_int(5)}}})
                .find("axis 5 is out of range"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(Tensor::zeros(DType::kI8, {2})), cst(scalar(1.f))}}).find("not supported"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(scalar<int32_t>(1))}}).find("y_scale must be float"),
            std::string::npos);
  EXPECT_NE(run_error({"QuantizeLinear", 21, {fed(x), cst(scalar(1.f))}, {{"block_size", ir::Attribute::make_int(2)}}})
                .find("block_size"),
            std::string::npos);
  // The error names the node.
  EXPECT_NE(run_error({"QuantizeLinear", 13, {fed(x), cst(Tensor::zeros(DType::kF32, {4}))}}).find("QuantizeLinear"),
            std::string::npos);
}

TEST(DequantizeLinear, PerTensorAndPerAxis) {
  Tensor x = Tensor::from_vector<uint8_t>({0, 3, 128, 255});
  Tensor y = run_all({"DequantizeLinear", 10, {fed(x), cst(scalar(2.f)), cst(scalar<uint8_t>(128))}});
  ASSERT_EQ(y.dtype(), DType::kF32);
  const float want[] = {-256.f, -250.f, 0.f, 254.f};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<float>()[i], want[i]);
  Tensor xa = random_tensor<int8_t>({1, 3, 3, 2}, 5, -128, 127);
  Tensor s = Tensor::from_vector<float>({1.f, 0.5f, 0.25f}, {3});
  Tensor z = Tensor::from_vector<int8_t>({0, -1, 127}, {3});
  y = run_all({"DequantizeLinear", 13, {fed(xa), fed(s), fed(z)}, {{"axis", ir::Attribute::make_int(1)}}});
  for (int64_t i = 0; i < xa.numel(); ++i) {
    int64_t c = (i / 6) % 3;
    EXPECT_EQ(y.data<float>()[i], (float(xa.data<int8_t>()[i]) - float(z.data<int8_t>()[c])) * s.data<float>()[c]);
  }
}

TEST(DequantizeLinear, AllInputTypesAgreeAcrossImplementations) {
  run_all({"DequantizeLinear", 13, {fed(random_tensor<uint8_t>({3, 37, 129}, 1, 0, 255)), cst(scalar(0.1f)),
                                    cst(scalar<uint8_t>(3))}});
  run_all({"DequantizeLinear", 13, {fed(random_tensor<int16_t>({5, 4001}, 2, -32768, 32767)), fed(scalar(0.01f)),
                                    fed(scalar<int16_t>(-300))}});
  run_all({"DequantizeLinear", 13, {fed(random_tensor<uint16_t>({33, 33}, 3, 0, 65535)), cst(scalar(3.f))}});
  Tensor s = Tensor::from_vector<float>({0.5f, 2.f}, {2});
  Tensor y = run_all({"DequantizeLinear", 13, {fed(random_tensor<int32_t>({2, 2, 1000}, 4, -2000000000, 2000000000)),
                                               cst(s), cst(Tensor::from_vector<int32_t>({0, 0}, {2}))}});
  EXPECT_EQ(y.dtype(), DType::kF32);
}

TEST(DequantizeLinear, Float16ScaleGivesFloat16Output) {
  Tensor s = Tensor::empty(DType::kF16, {});
  *s.data<uint16_t>() = float_to_half(0.5f);
  Tensor y = run_all({"DequantizeLinear", 19, {fed(Tensor::from_vector<int8_t>({-4, 0, 7})), fed(s)}});
  ASSERT_EQ(y.dtype(), DType::kF16);
  EXPECT_EQ(half_to_float(y.data<uint16_t>()[0]), -2.f);
  EXPECT_EQ(half_to_float(y.data<uint16_t>()[2]), 3.5f);
}

TEST(DequantizeLinear, Errors) {
  Tensor xi = Tensor::from_vector<int32_t>({1, 2});
  EXPECT_NE(run_error({"DequantizeLinear", 13, {fed(xi), cst(scalar(1.f)), fed(scalar<int32_t>(3))}}).find("zero point of 0"),
            std::string::npos);
  EXPECT_NE(run_error({"DequantizeLinear", 13, {fed(Tensor::from_vector<uint8_t>({1, 2})), cst(scalar(1.f)),
                                                cst(scalar<int8_t>(0))}})
                .find("x_zero_point has type"),
            std::string::npos);
  EXPECT_NE(run_error({"DequantizeLinear", 13, {fed(Tensor::from_vector<float>({1.f})), cst(scalar(1.f))}}).find("not supported"),
            std::string::npos);
}

// A QDQ pair round-trips values on the quantization grid exactly.
TEST(QuantizeDequantize, RoundTripOnGrid) {
  Tensor x = Tensor::empty(DType::kF32, {256});
  for (int i = 0; i < 256; ++i) x.data<float>()[i] = (i - 100) * 0.125f;
  Tensor q = run_all({"QuantizeLinear", 13, {fed(x), cst(scalar(0.125f)), cst(scalar<uint8_t>(100))}});
  Tensor d = run_all({"DequantizeLinear", 13, {fed(q), cst(scalar(0.125f)), cst(scalar<uint8_t>(100))}});
  for (int i = 0; i < 256; ++i) ASSERT_EQ(d.data<float>()[i], x.data<float>()[i]);
}

}  // namespace
}  // namespace kaiwu::qtest
