#include "kernels/x86/reduce.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/parallel.h"

namespace kaiwu::kernels::x86 {

namespace {

using ref::ReduceKind;
constexpr int kLanes = 16;

inline float max_nan(float m, float v) { return (v > m || v != v) && m == m ? v : m; }  // first NaN sticks

// Sum or max of one contiguous row with kLanes independent accumulators (vectorizes without reassociation).
float row_reduce(ReduceKind k, const float* x, int64_t n) {
  if (k == ReduceKind::kMax) {
    float lane[kLanes];
    for (int l = 0; l < kLanes; ++l) lane[l] = -std::numeric_limits<float>::infinity();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int l = 0; l < kLanes; ++l) lane[l] = max_nan(lane[l], x[i + l]);
    float m = -std::numeric_limits<float>::infinity();
    for (int l = 0; l < kLanes; ++l) m = max_nan(m, lane[l]);
    for (; i < n; ++i) m = max_nan(m, x[i]);
    return m;
  }
  float lane[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += x[i + l];
  float s = 0.f;
  for (int l = 0; l < kLanes; ++l) s += lane[l];
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

bool reduce_f32(ReduceKind k, const float* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
                float* y) {
  // Merge into blocks of (size, reduced) skipping size-1 dims.
  std::vector<std::pair<int64_t, bool>> blocks;
  int64_t count = 1, total = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    total *= shape[d];
    if (reduced[d]) count *= shape[d];
    if (shape[d] == 1) continue;
    if (!blocks.empty() && blocks.back().second == reduced[d])
      blocks.back().first *= shape[d];
    else
      blocks.push_back({shape[d], reduced[d]});
  }
  int64_t outer = 1, n = 1, inner = 1;
  int n_red = 0;
  for (const auto& [size, red] : blocks) {
    if (red) {
      ++n_red;
      n = size;
    } else if (n_red == 0) {
      outer *= size;
    } else {
      inner *= size;
    }
  }
  if (n_red > 1) return false;
  if (total == 0 || count == 0) return false;  // empty tensors: the reference handles the conventions
  const float fcount = static_cast<float>(count);
  const bool mean = k == ReduceKind::kMean;
  if (n_red == 0 || n == 1) {  // nothing to reduce: a copy (the mean of one element is itself)
    std::memcpy(y, x, static_cast<size_t>(total) * sizeof(float));
    return true;
  }
  if (inner == 1) {
    const int64_t grain = std::max<int64_t>(1, 32768 / n);
    parallel_for(outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        float v = row_reduce(k, x + o * n, n);
        y[o] = mean ? v / fcount : v;
      }
    });
    return true;
  }
  // [outer, n, inner]: accumulate rows of `inner`, parallel over (outer, inner chunks).
  constexpr int64_t kChunk = 1024;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
  const int64_t grain = std::max<int64_t>(1, 32768 / (n * std::min(inner, kChunk)));
  parallel_for(outer * chunks, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / chunks, i0 = (t % chunks) * kChunk, len = std::min(kChunk, inner - i0);
      float* out = y + o * inner + i0;
      const float* src = x + o * n * inner + i0;
      std::memcpy(out, src, static_cast<size_t>(len) * sizeof(float));
      for (int64_t r = 1; r < n; ++r) {
        const float* row = src + r * inner;
        if (k == ReduceKind::kMax) {
          for (int64_t i = 0; i < len; ++i) out[i] = max_nan(out[i], row[i]);
        } else {
          for (int64_t i = 0; i < len; ++i) out[i] += row[i];
        }
      }
      if (mean)
        for (int64_t i = 0; i < len; ++i) out[i] /= fcount;
    }
  });
  return true;
}

}  // namespace kaiwu::kernels::x86
