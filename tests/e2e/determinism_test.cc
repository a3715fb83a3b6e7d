// Determinism of every e2e model on its first reference input:
//  - the same session run twice, and a second session, give bit-identical outputs (2 threads);
//  - 1 thread vs 2 threads agree within 1e-6 relative (+ 1e-7 * max|y| absolute floor, for outputs near zero that
//    are sums of larger terms); whether they are bit-identical is printed ("[ determinism ] ... bit-identical").
//    The project rule is that kernels never split a float reduction across threads, so bit-identity is expected.
#include <gtest/gtest.h>

#include <cstdio>

#include "e2e/e2e_util.h"
#include "test_util.h"

namespace kaiwu {
namespace {

void check_determinism(const std::string& name) {
  e2e::Refs refs;
  Status st = e2e::load_refs(name, &refs);
  ASSERT_TRUE(st.ok()) << st.to_string();
  const Tensor& x = refs.cases[0].input;
  std::unique_ptr<Session> s2, s2b, s1;
  st = e2e::open_session(refs.model_path, 2, &s2);
  ASSERT_TRUE(st.ok()) << st.to_string();
  std::vector<Tensor> a, b, c, d;
  st = e2e::run_session(*s2, refs.input_name, x, &a);
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = e2e::run_session(*s2, refs.input_name, x, &b);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(a.size(), b.size());
  for (size_t j = 0; j < a.size(); ++j)
    EXPECT_TRUE(e2e::bit_equal(a[j], b[j])) << name << " output " << j << ": repeated run differs: "
                                            << e2e::diff_summary(b[j], a[j]);

  st = e2e::open_session(refs.model_path, 2, &s2b);
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = e2e::run_session(*s2b, refs.input_name, x, &c);
  ASSERT_TRUE(st.ok()) << st.to_string();
  for (size_t j = 0; j < a.size(); ++j)
    EXPECT_TRUE(e2e::bit_equal(a[j], c[j])) << name << " output " << j << ": a second session differs: "
                                            << e2e::diff_summary(c[j], a[j]);

  st = e2e::open_session(refs.model_path, 1, &s1);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(s1->num_threads(), 1);
  ASSERT_EQ(s2->num_threads(), 2);
  st = e2e::run_session(*s1, refs.input_name, x, &d);
  ASSERT_TRUE(st.ok()) << st.to_string();
  bool all_bits = true;
  for (size_t j = 0; j < a.size(); ++j) {
    bool same = e2e::bit_equal(a[j], d[j]);
    all_bits = all_bits && same;
    std::string why;
    EXPECT_TRUE(test::all_close(d[j], a[j], 1e-6, 1e-7 * e2e::max_abs(a[j]), &why))
        << name << " output " << j << ": 1 vs 2 threads: " << why;
    if (!same)
      std::printf("[ determinism ] %s output %zu: 1 vs 2 threads: %s\n", name.c_str(), j,
                  e2e::diff_summary(d[j], a[j]).c_str());
  }
  std::printf("[ determinism ] %s: 1 vs 2 threads bit-identical: %s\n", name.c_str(), all_bits ? "yes" : "NO");
  ::testing::Test::RecordProperty("threads_bit_identical", all_bits ? "yes" : "no");
}

TEST(Determinism, Fmnist) { check_determinism("fmnist"); }
TEST(Determinism, PpocrCls) { check_determinism("ppocr_cls"); }
TEST(Determinism, PpocrRec) { check_determinism("ppocr_rec"); }
TEST(Determinism, MobilenetV3Small) { check_determinism("mobilenet_v3_small"); }
TEST(Determinism, Resnet18) { check_determinism("resnet18"); }
TEST(Determinism, Resnet50) { check_determinism("resnet50"); }
TEST(Determinism, MobilenetV2) { check_determinism("mobilenet_v2"); }
TEST(Determinism, EfficientnetB0) { check_determinism("efficientnet_b0"); }
TEST(Determinism, PpocrDet) { check_determinism("ppocr_det"); }

}  // namespace
}  // namespace kaiwu
