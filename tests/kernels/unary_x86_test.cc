// Differential test of the optimized unary f32 kernels against the reference (std:: functions).
// Stated tolerance: the polynomial Exp/Sigmoid/Tanh/Erf stay within 1e-6 relative of the reference, plus 1e-37
// absolute where results are subnormal; the other kinds within 1e-6 relative, plus 1e-7 absolute for HardSigmoid
// and HardSwish (the fused multiply-add rounds differently where alpha * x + beta cancels).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/unary.h"
#include "kernels/x86/unary.h"

namespace kaiwu::kernels {
namespace {

using ref::UnaryKind;

std::vector<float> inputs(UnaryKind k, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  float lo = -12.f, hi = 12.f;
  if (k == UnaryKind::kExp) lo = -105.f, hi = 90.f;  // into overflow and subnormal results
  if (k == UnaryKind::kSigmoid) lo = -100.f, hi = 40.f;
  if (k == UnaryKind::kSqrt || k == UnaryKind::kLog) lo = 0.f, hi = 1000.f;
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  // Small magnitudes matter for relative accuracy of tanh and erf.
  for (size_t i = 0; i < v.size(); i += 7) v[i] *= 1e-3f;
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& x,
                  const char* what, double atol = 1e-37) {
  for (size_t i = 0; i < got.size(); ++i) {
    const float g = got[i], w = want[i];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(g)) << what << " x=" << x[i];
      continue;
    }
    if (std::isinf(w)) {
      EXPECT_EQ(g, w) << what << " x=" << x[i];
      continue;
    }
    EXPECT_LE(std::fabs(g - w), 1e-6 * std::fabs(w) + atol) << what << " x=" << x[i] << " got " << g << " want " << w;
  }
}

TEST(UnaryX86, MatchesReferenceOnOddLengths) {
  const UnaryKind kinds[] = {
      UnaryKind::kRelu,       UnaryKind::kLeakyRelu, UnaryKind::kSigmoid, UnaryKind::kHardSigmoid,
      UnaryKind::kHardSwish,  UnaryKind::kTanh,      UnaryKind::kErf,     UnaryKind::kSqrt,
      UnaryKind::kExp,        UnaryKind::kLog,       UnaryKind::kNeg,     UnaryKind::kAbs,
      UnaryKind::kReciprocal, UnaryKind::kClip,      UnaryKind::kSquare,  UnaryKind::kIdentity};
  unsigned seed = 1;
  for (UnaryKind k : kinds) {
    for (int64_t n : {0, 1, 15, 16, 17, 31, 33, 1000, 4099}) {
      ref::UnaryParams p;
      p.kind = k;
      p.alpha = k == UnaryKind::kClip ? -2.f : 0.2f;
      p.beta = k == UnaryKind::kClip ? 3.f : 0.5f;
      std::vector<float> x = inputs(k, n, seed++), want(x.size()), got(x.size() + 1, 12345.f);
      ref::unary_f32(x.data(), want.data(), n, p);
      x86::unary_f32(x.data(), got.data(), n, p);
      EXPECT_EQ(got[n], 12345.f) << "wrote past the end";
      got.resize(x.size());
      const bool hard = k == UnaryKind::kHardSigmoid || k == UnaryKind::kHardSwish;
      expect_close(got, want, x, ref::unary_kind_name(k), hard ? 1e-7 : 1e-37);
    }
  }
}

TEST(UnaryX86, DenseSweepOfTranscendentals) {
  // Every 1/64 step over the interesting ranges, plus special values.
  std::vector<float> x;
  for (float v = -30.f; v <= 30.f; v += 1.f / 64) x.push_back(v);
  for (float v = 1e-30f; v < 1.f; v *= 1.7f) {
    x.push_back(v);
    x.push_back(-v);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.f, -0.f, inf, -inf, 88.7f, 88.73f, -87.3f, -103.f, 0.625f, -0.625f, 1.f, -1.f, 3.99f, 4.f})
    x.push_back(v);
  for (UnaryKind k : {UnaryKind::kExp, UnaryKind::kSigmoid, UnaryKind::kTanh, UnaryKind::kErf}) {
    ref::UnaryParams p;
    p.kind = k;
    std::vector<float> want(x.size()), got(x.size());
    ref::unary_f32(x.data(), want.data(), static_cast<int64_t>(x.size()), p);
    x86::unary_f32(x.data(), got.data(), static_cast<int64_t>(x.size()), p);
    expect_close(got, want, x, ref::unary_kind_name(k));
    // In place, and NaN propagates.
    std::vector<float> io = {std::nanf(""), 1.f};
    x86::unary_f32(io.data(), io.data(), 2, p);
    EXPECT_TRUE(std::isnan(io[0])) << ref::unary_kind_name(k);
  }
}

TEST(UnaryX86, IntegerAndHalfReference) {
  std::vector<int16_t> xi = {-7, 0, 9}, yi(3);
  ref::UnaryParams p;
  p.kind = UnaryKind::kAbs;
  ref::unary_any(DType::kI16, xi.data(), yi.data(), 3, p);
  EXPECT_EQ(yi, (std::vector<int16_t>{7, 0, 9}));
  int16_t lo = -3, hi = 4;
  ref::clip_any(DType::kI16, xi.data(), yi.data(), 3, &lo, &hi);
  EXPECT_EQ(yi, (std::vector<int16_t>{-3, 0, 4}));
  ref::clip_any(DType::kI16, xi.data(), yi.data(), 3, nullptr, &hi);
  EXPECT_EQ(yi, (std::vector<int16_t>{-7, 0, 4}));
  EXPECT_FALSE(ref::unary_supports(UnaryKind::kExp, DType::kI32));
  EXPECT_TRUE(ref::unary_supports(UnaryKind::kExp, DType::kF16));
}

}  // namespace
}  // namespace kaiwu::kernels
