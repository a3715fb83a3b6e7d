// oneDNN int8 plumbing shared by the quantized conv and matmul kernels: CPU support, data types, scratch,
// u8 -> s8 weight shifting, weight packing / per-run weight preparation and zero-point scalars.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "kaiwu/dtype.h"
#include "kaiwu/status.h"

namespace kaiwu::kernels::x86 {

// True when oneDNN int8 products are exact here (VNNI; without it u8 x s8 pairs saturate in int16).
bool onednn_int8_exact();
// True if (x, w, y) is a supported int8 type triple: x, w u8 / i8; y u8 / i8 / i32 (and onednn_int8_exact()).
bool onednn_int8_types_ok(DType xt, DType wt, DType yt);
// oneDNN data type of u8 / i8 (anything else: s32).
dnnl::memory::data_type onednn_int8_dt(DType t);
// Per-thread scratch `slot` (0..5) of at least `bytes` bytes, 64-byte aligned, grown on demand. Slots 0..2 serve one
// primitive run (source, destination, weights); 3..5 hold the int16 convolution's halves and accumulators.
void* onednn_int8_scratch(int slot, size_t bytes);
// A one-element s32 memory over *v (runtime zero points).
dnnl::memory onednn_s32_scalar(int32_t* v);

// Int8 weights ("B") of a primitive: user layout, the primitive's layout and the reorder between them.
// u8 weights are shifted to s8 (x ^ 0x80) first; the caller accounts for the zero-point shift.
struct OnednnInt8Weights {
  dnnl::memory::desc user, prim;
  bool reorder = false;
  dnnl::reorder r;
  bool is_u8 = false;
  int64_t count = 0;  // number of weight elements
  dnnl::memory packed;
  bool packed_ok = false;

  // Sets the descriptors and builds the reorder if the layouts differ.
  void init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& prim_md, bool u8, int64_t n);
  // Converts and reorders constant weights into `packed` once. `what` prefixes errors.
  Status pack(const void* w, const std::string& what);
  // The weights memory for one run: `packed` when w is null, else w converted into scratch `slot`.
  // Returns false (with *missing set) when w is null and nothing was packed.
  dnnl::memory for_run(const void* w, int slot, dnnl::stream& st, bool* missing) const;
};

}  // namespace kaiwu::kernels::x86
