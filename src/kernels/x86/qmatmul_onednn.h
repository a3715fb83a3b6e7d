// Integer matrix products through oneDNN's int8 matmul (u8/s8 A, s8 B, VNNI), for QLinearMatMul and MatMulInteger.
// Zero points are per tensor (u8 B is shifted to s8 with its zero point lowered by 128, so every u8/s8 mix works).
// Two modes, as in qconv_onednn.h:
//  - fused (yt u8/i8): saturate(round_half_even(acc * multiplier[j]) + y_zp) with constant multipliers (one, or one
//    per column) baked into the primitive; contract: within 1 LSB of the reference (tests/kernels).
//  - raw (yt i32): exact int32 accumulators.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kaiwu/dtype.h"
#include "kaiwu/status.h"

namespace kaiwu::kernels::x86 {

struct QMatMulOnednnConfig {
  int64_t batch = 0;  // 0: [m, k] x [k, n]; else [batch, m, k] x [batch, k, n]
  int64_t m = 1, k = 1, n = 1;
  DType at = DType::kU8, bt = DType::kI8, yt = DType::kU8;
  std::vector<float> multipliers;  // fused mode: 1 or n values
  bool a_zp_is_zero = false;       // a's zero point is known to be 0
  bool b_zp_is_neutral = false;    // b's zero point is known to be 0 (s8) or 128 (u8)
};

class QMatMulOnednn {
 public:
  ~QMatMulOnednn();
  // True if the host and oneDNN can run these types (VNNI, u8/s8 inputs, u8/s8/s32 output).
  static bool types_supported(DType at, DType bt, DType yt);
  // Creates the primitive; an error means the caller should use the reference.
  static Status create(const QMatMulOnednnConfig& c, std::unique_ptr<QMatMulOnednn>* out);
  // Converts and reorders a constant B once; run() may then get b == null.
  Status pack_weights(const void* b);
  // a: [batch,] m x k of at; b: [batch,] k x n of bt unless packed (null); y: [batch,] m x n of yt.
  Status run(const void* a, int32_t a_zp, const void* b, int32_t b_zp, int32_t y_zp, void* y) const;
  const char* impl_name() const;

 private:
  QMatMulOnednn();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kaiwu::kernels::x86
