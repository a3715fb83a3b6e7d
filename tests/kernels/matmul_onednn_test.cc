// Differential tests: oneDNN f32 matmul against the scalar reference: 2-D with transposes, alpha, every bias
// broadcast shape (constant and run-time), batched with numpy broadcasting, fused post-ops, constant (prepacked)
// and run-time B; and 1 vs 2 threads. Tolerance: |fast - ref| <= 1e-4 * |ref| + 2e-6 * K.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>
#include <vector>

#include "core/parallel.h"
#include "kernels/ref/matmul.h"
#include "kernels/x86/matmul_onednn.h"
#include "kernel_test_util.h"

namespace kaiwu::kernels {
namespace {

using test::prod;
using test::random_vec;
using x86::MatmulOnednn;

MatmulParams mm(std::vector<int64_t> ab, std::vector<int64_t> bb, int64_t m, int64_t k, int64_t n, bool ta = false,
                bool tb = false) {
  MatmulParams p;
  p.a_batch = ab;
  p.b_batch = bb;
  p.m = m;
  p.k = k;
  p.n = n;
  p.trans_a = ta;
  p.trans_b = tb;
  return p;
}

// Checks p through oneDNN (B constant and run-time, bias constant and run-time) against the reference.
void check(const MatmulParams& p, unsigned seed) {
  auto a = random_vec(prod(p.a_batch) * p.m * p.k, seed);
  auto b = random_vec(prod(p.b_batch) * p.k * p.n, seed + 1);
  auto bias = random_vec(p.bias_m * p.bias_n, seed + 2);
  const int64_t ny = p.batch_count() * p.m * p.n;
  auto summand = random_vec(ny, seed + 3);
  std::vector<float> want = summand;
  ref::matmul<float>(p, a.data(), b.data(), bias.data(), want.data());
  for (int variant = 0; variant < 2; ++variant) {
    const bool consts = variant == 0;
    std::unique_ptr<MatmulOnednn> k;
    Status st = MatmulOnednn::create(p, consts ? b.data() : nullptr, consts && p.has_bias ? bias.data() : nullptr, &k);
    ASSERT_TRUE(st.ok()) << p.describe() << ": " << st.to_string();
    std::vector<float> y = summand;
    k->run(a.data(), b.data(), bias.data(), y.data());
    test::expect_close(y, want, 1e-4, 2e-6 * p.k,
                       p.describe() + (consts ? " const B" : " run-time B") + " (" + k->impl_info() + ")");
  }
}

TEST(MatmulOnednn, TwoDimensionalWithTransposesAlphaAndBias) {
  unsigned seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (float alpha : {1.f, 0.25f})
        for (int bias_kind = 0; bias_kind < 5; ++bias_kind) {
          MatmulParams p = mm({}, {}, 13, 31, 7, ta, tb);
          p.alpha = alpha;
          p.has_bias = bias_kind > 0;
          const int64_t shapes[5][2] = {{1, 1}, {1, 7}, {13, 1}, {13, 7}, {1, 1}};
          p.bias_m = shapes[bias_kind][0];
          p.bias_n = shapes[bias_kind][1];
          check(p, seed++);
        }
}

TEST(MatmulOnednn, OddAndVectorShapes) {
  unsigned seed = 50;
  for (auto dims : std::vector<std::vector<int64_t>>{{1, 7, 5}, {1, 2048, 1000}, {33, 65, 17}, {5, 1, 3}, {64, 3, 1}}) {
    MatmulParams p = mm({}, {}, dims[0], dims[1], dims[2], false, true);
    p.has_bias = true;
    p.bias_n = dims[2];
    check(p, seed++);
  }
}

TEST(MatmulOnednn, BatchedWithBroadcasting) {
  unsigned seed = 100;
  check(mm({2, 3}, {2, 3}, 5, 8, 6), seed++);
  check(mm({2, 1}, {1, 3}, 4, 9, 5), seed++);
  check(mm({1}, {4}, 3, 16, 2), seed++);
  check(mm({3}, {1}, 7, 5, 11, false, true), seed++);
  check(mm({2, 2, 2}, {1, 2, 1}, 3, 4, 5, true, false), seed++);
  MatmulParams p = mm({2}, {2}, 6, 10, 4);
  p.has_bias = true;
  p.bias_n = 4;
  p.alpha = 2.f;  // run-time B: alpha cannot be folded, the bias goes through the sum post-op
  check(p, seed++);
}

TEST(MatmulOnednn, FusedPostOps) {
  unsigned seed = 200;
  const std::vector<std::vector<PostOp>> chains = {
      {PostOp::relu()}, {PostOp::sum(), PostOp::relu()}, {PostOp::of(PostOpKind::kGeluErf)},
      {PostOp::of(PostOpKind::kSigmoid)}, {PostOp::clip(-0.5f, 0.5f)}};
  for (const auto& c : chains) {
    MatmulParams p = mm({}, {}, 9, 20, 12, false, true);
    p.has_bias = true;
    p.bias_n = 12;
    p.post_ops = c;
    check(p, seed++);
  }
}

TEST(MatmulOnednn, ResultsDoNotDependOnThreadCount) {
  // Classifier FC (1x2048 -> 1000), a token-batch projection and a batched attention-like product.
  const std::vector<MatmulParams> shapes = {mm({}, {}, 1, 2048, 1000, false, true), mm({}, {}, 197, 384, 384),
                                            mm({8}, {8}, 64, 64, 64)};
  unsigned seed = 300;
  for (const MatmulParams& p : shapes) {
    auto a = random_vec(prod(p.a_batch) * p.m * p.k, seed), b = random_vec(prod(p.b_batch) * p.k * p.n, seed + 1);
    seed += 2;
    std::vector<float> y[2];
    for (int t = 0; t < 2; ++t) {
      set_num_threads(t + 1);
      std::unique_ptr<MatmulOnednn> k;
      ASSERT_TRUE(MatmulOnednn::create(p, b.data(), nullptr, &k).ok());
      y[t].resize(p.batch_count() * p.m * p.n);
      k->run(a.data(), nullptr, nullptr, y[t].data());
    }
    set_num_threads(1);
    size_t diff = 0;
    for (size_t i = 0; i < y[0].size(); ++i) diff += y[0][i] != y[1][i];
    EXPECT_EQ(diff, 0u) << p.describe() << ": " << diff << " elements differ between 1 and 2 threads";
  }
}

}  // namespace
}  // namespace kaiwu::kernels
