// Differential tests: the planned x86 strided copy and pad against their scalar references, over odd shapes,
// element sizes, permutations, negative/zero strides and thread counts (fixed seeds).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/parallel.h"
#include "kernels/ref/pad.h"
#include "kernels/ref/strided_copy.h"
#include "kernels/x86/pad.h"
#include "kernels/x86/strided_copy.h"

namespace kaiwu::kernels {
namespace {

std::vector<uint8_t> random_bytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Runs both implementations of a copy into distinct, identically pre-filled buffers; expects equal bytes.
void check_copy(const ref::StridedCopyParams& p, const std::vector<uint8_t>& src, int64_t src_off, size_t dst_bytes,
                std::mt19937& rng) {
  std::vector<uint8_t> a = random_bytes(dst_bytes, rng), b = a;
  ref::strided_copy(src.data() + src_off, a.data(), p);
  x86::StridedCopyPlan plan = x86::plan_strided_copy(p);
  for (int threads : {1, 2}) {
    std::vector<uint8_t> c = b;
    set_num_threads(threads);
    x86::strided_copy(src.data() + src_off, c.data(), plan);
    ASSERT_EQ(a, c) << "elem_size " << p.elem_size << " rank " << p.shape.size() << " kind "
                    << static_cast<int>(plan.kind) << " threads " << threads;
  }
  set_num_threads(1);
}

TEST(StridedCopy, TransposesMatchReference) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    const int rank = 1 + iter % 5;
    std::vector<int64_t> in(rank);
    for (auto& d : in) d = 1 + rng() % (rank <= 2 ? 40 : 9);
    std::vector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const int64_t es = std::vector<int64_t>{1, 2, 4, 8, 3, 4}[iter % 6];
    ref::StridedCopyParams p;
    p.elem_size = es;
    std::vector<int64_t> ins = ref::dense_strides(in);
    for (int i = 0; i < rank; ++i) {
      p.shape.push_back(in[perm[i]]);
      p.src_strides.push_back(ins[perm[i]]);
    }
    p.dst_strides = ref::dense_strides(p.shape);
    int64_t n = 1;
    for (int64_t d : in) n *= d;
    check_copy(p, random_bytes(n * es, rng), 0, n * es, rng);
  }
}

TEST(StridedCopy, NchwNhwcLargeUsesTiledTranspose) {
  std::mt19937 rng(3);
  for (auto dims : std::vector<std::vector<int64_t>>{{2, 67, 13, 11}, {1, 3, 40, 41}, {1, 64, 56, 56}, {3, 17, 9, 8}}) {
    for (int64_t es : {1, 2, 4, 8}) {
      const int64_t n = dims[0], c = dims[1], hw = dims[2] * dims[3];
      ref::StridedCopyParams p;  // NCHW -> NHWC
      p.elem_size = es;
      p.shape = {n, hw, c};
      p.src_strides = {c * hw, 1, hw};
      p.dst_strides = {hw * c, c, 1};
      EXPECT_EQ(x86::plan_strided_copy(p).kind, x86::StridedCopyPlan::Kind::kTranspose);
      check_copy(p, random_bytes(n * c * hw * es, rng), 0, n * c * hw * es, rng);
      p.shape = {n, c, hw};  // NHWC -> NCHW
      p.src_strides = {hw * c, 1, c};
      p.dst_strides = {c * hw, hw, 1};
      check_copy(p, random_bytes(n * c * hw * es, rng), 0, n * c * hw * es, rng);
    }
  }
}

TEST(StridedCopy, SlicesBroadcastsAndLongRowsMatchReference) {
  std::mt19937 rng(11);
  for (int iter = 0; iter < 300; ++iter) {
    const int rank = 1 + iter % 4;
    const int64_t es = std::vector<int64_t>{4, 1, 2, 8, 5}[iter % 5];
    std::vector<int64_t> in(rank);
    for (auto& d : in) d = 1 + rng() % 12;
    if (iter % 50 == 0) in.back() = 70000;  // long contiguous rows split in pieces
    std::vector<int64_t> ins = ref::dense_strides(in);
    ref::StridedCopyParams p;
    p.elem_size = es;
    int64_t off = 0;
    for (int i = 0; i < rank; ++i) {
      const int mode = rng() % 4;
      if (mode == 0) {  // broadcast: read one entry repeatedly
        p.shape.push_back(1 + rng() % 5);
        p.src_strides.push_back(0);
      } else if (mode == 1) {  // reverse with a step
        const int64_t step = 1 + rng() % 3;
        p.shape.push_back((in[i] + step - 1) / step);
        p.src_strides.push_back(-ins[i] * step);
        off += (in[i] - 1) * ins[i];
      } else {  // plain or strided forward
        const int64_t step = mode == 2 ? 1 : 2;
        p.shape.push_back((in[i] + step - 1) / step);
        p.src_strides.push_back(ins[i] * step);
      }
    }
    p.dst_strides = ref::dense_strides(p.shape);
    int64_t n = 1, m = 1;
    for (int64_t d : in) n *= d;
    for (int64_t d : p.shape) m *= d;
    check_copy(p, random_bytes(n * es, rng), off * es, m * es, rng);
  }
}

TEST(StridedCopy, StridedDestinationLikeConcat) {
  std::mt19937 rng(5);
  // Copy a [2, 3, 5] block into channels 4..6 of a [2, 9, 5] buffer.
  ref::StridedCopyParams p;
  p.elem_size = 4;
  p.shape = {2, 3, 5};
  p.src_strides = {15, 5, 1};
  p.dst_strides = {45, 5, 1};
  check_copy(p, random_bytes(30 * 4, rng), 0, 90 * 4, rng);
  EXPECT_EQ(x86::plan_strided_copy(p).kind, x86::StridedCopyPlan::Kind::kRows);
}

TEST(StridedCopy, PlanMergesContiguousDims) {
  ref::StridedCopyParams p;
  p.elem_size = 4;
  p.shape = {1, 2, 3, 1, 4};
  p.src_strides = ref::dense_strides(p.shape);
  p.dst_strides = p.src_strides;
  x86::StridedCopyPlan q = x86::plan_strided_copy(p);
  EXPECT_EQ(q.kind, x86::StridedCopyPlan::Kind::kRows);
  EXPECT_EQ(q.shape, std::vector<int64_t>{24});
  p.shape = {2, 0, 3};
  EXPECT_EQ(x86::plan_strided_copy(p).kind, x86::StridedCopyPlan::Kind::kEmpty);
}

TEST(Pad, SourceIndexFollowsNumpyModes) {
  using ref::PadMode;
  // numpy.pad([0, 1, 2, 3], 3, mode=...) maps positions -3..6.
  const std::vector<int64_t> reflect = {3, 2, 1, 0, 1, 2, 3, 2, 1, 0}, edge = {0, 0, 0, 0, 1, 2, 3, 3, 3, 3},
                             wrap = {1, 2, 3, 0, 1, 2, 3, 0, 1, 2};
  for (int64_t i = -3; i <= 6; ++i) {
    EXPECT_EQ(ref::pad_source_index(i, 4, PadMode::kReflect), reflect[i + 3]) << i;
    EXPECT_EQ(ref::pad_source_index(i, 4, PadMode::kEdge), edge[i + 3]) << i;
    EXPECT_EQ(ref::pad_source_index(i, 4, PadMode::kWrap), wrap[i + 3]) << i;
    EXPECT_EQ(ref::pad_source_index(i, 4, PadMode::kConstant), i >= 0 && i < 4 ? i : -1) << i;
  }
  EXPECT_EQ(ref::pad_source_index(-2, 1, PadMode::kReflect), 0);
}

TEST(Pad, X86MatchesReference) {
  std::mt19937 rng(13);
  using ref::PadMode;
  for (int iter = 0; iter < 400; ++iter) {
    const int rank = 1 + iter % 4;
    ref::PadParams p;
    p.elem_size = std::vector<int64_t>{4, 1, 2, 8, 3}[iter % 5];
    p.mode = std::vector<PadMode>{PadMode::kConstant, PadMode::kReflect, PadMode::kEdge, PadMode::kWrap}[(iter / 5) % 4];
    for (int i = 0; i < rank; ++i) {
      const int64_t d = 1 + rng() % 7;
      int64_t b = static_cast<int64_t>(rng() % 5) - 1, e = static_cast<int64_t>(rng() % 5) - 1;
      if (rng() % 3 == 0) b = e = 0;  // unpadded dims get folded / merged
      if (d + b + e < 0) b = e = 0;
      p.in_shape.push_back(d);
      p.pad_begin.push_back(b);
      p.out_shape.push_back(d + b + e);
    }
    int64_t n = 1, m = 1;
    for (int64_t d : p.in_shape) n *= d;
    for (int64_t d : p.out_shape) m *= d;
    std::vector<uint8_t> x = random_bytes(n * p.elem_size, rng), value = random_bytes(p.elem_size, rng);
    std::vector<uint8_t> a(m * p.elem_size, 0xEE), c = a;
    ref::pad(x.data(), a.data(), p, value.data());
    x86::PadPlan plan = x86::plan_pad(p);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      std::vector<uint8_t> b = c;
      x86::pad(x.data(), b.data(), plan, value.data());
      ASSERT_EQ(a, b) << "iter " << iter << " mode " << static_cast<int>(p.mode) << " threads " << threads;
    }
    set_num_threads(1);
  }
}

}  // namespace
}  // namespace kaiwu::kernels
