// Differential tests: oneDNN int8 matmul against the scalar reference over odd shapes, 2-D and batched, every
// u8/s8 mix of A and B, zero or non-zero zero points, per-tensor and per-column multipliers, packed and run-time B.
// Raw int32 results must be identical; fused requantized results within 1 LSB (count printed).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <random>
#include <vector>

#include "kernels/ref/qmatmul.h"
#include "kernels/x86/qmatmul_onednn.h"

namespace kaiwu::kernels {
namespace {

struct MmCase {
  int64_t batch, m, k, n;
};

TEST(QMatMulOnednn, MatchesReference) {
  if (!x86::QMatMulOnednn::types_supported(DType::kU8, DType::kI8, DType::kU8)) GTEST_SKIP() << "no AVX-512 VNNI";
  const MmCase cases[] = {{0, 1, 1, 1}, {0, 7, 13, 5}, {0, 64, 96, 80}, {3, 5, 17, 9}, {0, 33, 300, 65}, {2, 16, 64, 1}};
  const DType q8[] = {DType::kU8, DType::kI8};
  std::mt19937 rng(99);
  int64_t compared = 0, off_by_one = 0, variant = 0;
  for (const MmCase& mc : cases)
    for (DType at : q8)
      for (DType bt : q8)
        for (DType yt : {DType::kU8, DType::kI8, DType::kI32}) {
          ++variant;
          const bool zp_zero = variant % 3 == 0, packed = variant % 2 == 0, per_col = variant % 4 < 2;
          const int64_t nb = mc.batch ? mc.batch : 1, m = mc.m, k = mc.k, n = mc.n;
          std::vector<uint8_t> a(nb * m * k), b(nb * k * n);
          for (auto& e : a) e = static_cast<uint8_t>(rng());
          for (auto& e : b) e = static_cast<uint8_t>(rng());
          const int32_t a_zp = zp_zero ? 0 : (at == DType::kU8 ? 140 : 5);
          const int32_t b_zp = zp_zero ? (bt == DType::kU8 ? 128 : 0) : (bt == DType::kU8 ? 7 : -100);
          std::vector<int32_t> azv(m, a_zp), bzv(n, b_zp), acc(nb * m * n);
          for (int64_t i = 0; i < nb; ++i)
            ref::qgemm_s32(at, a.data() + i * m * k, azv.data(), bt, b.data() + i * k * n, bzv.data(),
                           acc.data() + i * m * n, m, k, n, 0, m);
          x86::QMatMulOnednnConfig c;
          c.batch = mc.batch;
          c.m = m;
          c.k = k;
          c.n = n;
          c.at = at;
          c.bt = bt;
          c.yt = yt;
          c.a_zp_is_zero = zp_zero;
          c.b_zp_is_neutral = zp_zero;
          std::vector<float> bs(n, 1.f);
          const float as = 0.02f, ys = 0.5f;
          if (yt != DType::kI32) {
            int64_t mx = 1;
            for (int32_t v : acc) mx = std::max<int64_t>(mx, std::llabs(v));
            for (auto& s : bs) s = per_col ? static_cast<float>((0.5 + (rng() % 1000) / 1000.0) * 4000.0 / mx) : 3000.f / mx;
            for (int64_t j = 0; j < (per_col ? n : 1); ++j) c.multipliers.push_back(as * bs[j] / ys);
          }
          std::unique_ptr<x86::QMatMulOnednn> kern;
          Status st = x86::QMatMulOnednn::create(c, &kern);
          ASSERT_TRUE(st.ok()) << st.to_string();
          if (packed) {
            ASSERT_TRUE(kern->pack_weights(b.data()).ok());
          }
          const int32_t y_zp = yt == DType::kU8 ? 100 : -20;
          std::vector<uint8_t> y(nb * m * n * dtype_size(yt));
          st = kern->run(a.data(), a_zp, packed ? nullptr : b.data(), b_zp, y_zp, y.data());
          ASSERT_TRUE(st.ok()) << st.to_string();
          if (yt == DType::kI32) {
            const int32_t* got = reinterpret_cast<const int32_t*>(y.data());
            for (int64_t i = 0; i < nb * m * n; ++i) ASSERT_EQ(got[i], acc[i]) << "variant " << variant << " i=" << i;
            continue;
          }
          std::vector<float> as_rows(m, as);
          std::vector<uint8_t> want(nb * m * n);
          for (int64_t i = 0; i < nb; ++i)
            ref::requantize_s32_rows_cols(acc.data() + i * m * n, yt, want.data() + i * m * n, m, n, as_rows.data(),
                                          bs.data(), ys, y_zp, 0, m);
          for (int64_t i = 0; i < nb * m * n; ++i) {
            int g = yt == DType::kU8 ? y[i] : static_cast<int8_t>(y[i]);
            int w = yt == DType::kU8 ? want[i] : static_cast<int8_t>(want[i]);
            ASSERT_LE(std::abs(g - w), 1) << "variant " << variant << " impl " << kern->impl_name() << " i=" << i;
            ++compared;
            if (g != w) ++off_by_one;
          }
        }
  std::cout << "[qmatmul_onednn] fused requantization: " << off_by_one << " of " << compared
            << " outputs differ by 1 LSB from the reference\n";
  EXPECT_GT(compared, 10000);
}

}  // namespace
}  // namespace kaiwu::kernels
