#include "kernels/x86/onednn_int8.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu_info.h"
#include "kernels/x86/onednn_util.h"

namespace kaiwu::kernels::x86 {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

void shift_u8_to_s8(const uint8_t* w, int8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(w[i] ^ 0x80u);
}

}  // namespace

bool onednn_int8_exact() {
  const CpuInfo& c = cpu_info();
  return c.avx512vnni && c.avx512bw && c.avx512vl;
}

bool onednn_int8_types_ok(DType xt, DType wt, DType yt) {
  if (!onednn_int8_exact()) return false;
  bool x_ok = xt == DType::kU8 || xt == DType::kI8, w_ok = wt == DType::kU8 || wt == DType::kI8;
  return x_ok && w_ok && (yt == DType::kU8 || yt == DType::kI8 || yt == DType::kI32);
}

dt onednn_int8_dt(DType t) {
  switch (t) {
    case DType::kU8: return dt::u8;
    case DType::kI8: return dt::s8;
    default: return dt::s32;
  }
}

void* onednn_int8_scratch(int slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[6];
  Buf& b = bufs[slot];
  if (b.n < bytes) {
    std::free(b.p);
    b.n = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.n);
  }
  return b.p;
}

dnnl::memory onednn_s32_scalar(int32_t* v) { return dnnl::memory({{1}, dt::s32, tag::x}, onednn_engine(), v); }

void OnednnInt8Weights::init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& prim_md, bool u8,
                             int64_t n) {
  user = user_md;
  prim = prim_md;
  is_u8 = u8;
  count = n;
  reorder = prim != user;
  if (reorder) r = dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), user, onednn_engine(), prim));
}

Status OnednnInt8Weights::pack(const void* w, const std::string& what) {
  try {
    dnnl::stream& st = onednn_stream();
    std::vector<int8_t> tmp;
    const int8_t* ws = static_cast<const int8_t*>(w);
    if (is_u8) {
      tmp.resize(count);
      shift_u8_to_s8(static_cast<const uint8_t*>(w), tmp.data(), count);
      ws = tmp.data();
    }
    packed = dnnl::memory(prim, onednn_engine());
    dnnl::memory u(user, onednn_engine(), const_cast<int8_t*>(ws));
    if (reorder) r.execute(st, u, packed);
    else std::memcpy(packed.get_data_handle(), ws, count);
    st.wait();
  } catch (const dnnl::error& e) {
    return internal_error(what + e.what());
  }
  packed_ok = true;
  return Status::Ok();
}

dnnl::memory OnednnInt8Weights::for_run(const void* w, int slot, dnnl::stream& st, bool* missing) const {
  *missing = false;
  if (packed_ok && !w) return packed;
  if (!w) {
    *missing = true;
    return dnnl::memory();
  }
  // Scratch: the u8 -> s8 shifted weights (if needed), then the weights in the primitive's layout.
  const size_t shifted = is_u8 ? (count + 63) / 64 * 64 : 0;
  uint8_t* base = static_cast<uint8_t*>(onednn_int8_scratch(slot, shifted + (reorder ? prim.get_size() : 0)));
  const int8_t* ws = static_cast<const int8_t*>(w);
  if (shifted) {
    shift_u8_to_s8(static_cast<const uint8_t*>(w), reinterpret_cast<int8_t*>(base), count);
    ws = reinterpret_cast<const int8_t*>(base);
  }
  dnnl::memory u(user, onednn_engine(), const_cast<int8_t*>(ws));
  if (!reorder) return u;
  dnnl::memory out(prim, onednn_engine(), base + shifted);
  r.execute(st, u, out);
  return out;
}

}  // namespace kaiwu::kernels::x86
