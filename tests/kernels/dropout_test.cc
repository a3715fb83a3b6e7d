// Training-mode Dropout's generator reproduces numpy's legacy RandomState(seed).random_sample().
#include <gtest/gtest.h>

#include "kernels/ref/dropout.h"

namespace kaiwu::kernels {
namespace {

TEST(Dropout, MaskMatchesNumpySeed0) {
  // numpy: np.random.seed(0); np.random.random_sample(6) =
  // [0.5488135, 0.71518937, 0.60276338, 0.54488318, 0.4236548, 0.64589411]
  bool keep[6];
  ref::dropout_keep_mask(0, 0.55, 6, keep);
  const bool expect[6] = {false, true, true, false, false, true};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(keep[i], expect[i]) << i;
  ref::dropout_keep_mask(0, 0.5488135, 1, keep);  // just below the first draw: kept
  EXPECT_TRUE(keep[0]);
  ref::dropout_keep_mask(0, 0.5488136, 1, keep);  // just above: dropped
  EXPECT_FALSE(keep[0]);
}

TEST(Dropout, ApplyScalesKeptValues) {
  const float x[4] = {1.f, -2.f, 3.f, 4.f};
  const bool keep[4] = {true, false, true, false};
  float y[4];
  ref::dropout_apply_f32(x, keep, 2.f, y, 4);
  EXPECT_EQ(y[0], 2.f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], 6.f);
  EXPECT_EQ(y[3], 0.f);
}

}  // namespace
}  // namespace kaiwu::kernels
