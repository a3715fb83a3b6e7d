// Optimized f32 resize over the last two axes (the image plane), separable: precomputed per-axis taps, a
// horizontal pass into a row buffer then a vertical pass vectorized along the row; nearest is a table gather.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/ref/resize.h"

namespace kaiwu::kernels::x86 {

class Resize2d {
 public:
  // Prepares `p`; false when it is not a plane resize (leading axes resized, rank < 2, or extrapolated samples).
  static bool create(const ResizeParams& p, std::unique_ptr<Resize2d>* out);
  // y = resize(x), parallel over planes.
  void run(const float* x, float* y) const;

 private:
  struct Axis {
    int64_t taps = 1;
    bool identity = false;
    std::vector<int32_t> index;
    std::vector<float> weight;
  };
  bool nearest_ = false;
  int64_t planes_ = 1, h_ = 0, w_ = 0, oh_ = 0, ow_ = 0;
  Axis ah_, aw_;
};

}  // namespace kaiwu::kernels::x86
