// Helpers of the kernel differential tests: seeded random float vectors, element counts and a float comparison
// that names the first mismatches.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kaiwu::kernels::test {

// n floats uniform in [lo, hi) from a fixed seed.
inline std::vector<float> random_vec(int64_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Product of the dims (1 for none).
inline int64_t prod(const std::vector<int64_t>& d) {
  int64_t r = 1;
  for (int64_t x : d) r *= x;
  return r;
}

// Sets the window of conv or pool params: input dims, kernel, strides, dilations and pads.
template <typename P>
void set_window(P* p, const std::vector<int64_t>& in, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                const std::vector<int64_t>& d, const std::vector<int64_t>& pb, const std::vector<int64_t>& pe) {
  p->in_dims = in;
  p->kernel = k;
  p->strides = s;
  p->dilations = d;
  p->pads_begin = pb;
  p->pads_end = pe;
}

// Expects |got - want| <= rtol * |want| + atol element-wise; reports at most 5 mismatches, prefixed by `what`.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    double tol = rtol * std::fabs(want[i]) + atol;
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
      ++bad;
    }
  }
}

}  // namespace kaiwu::kernels::test
