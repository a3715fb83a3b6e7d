// kaiwu.QLut (X int8 | uint8 | int16, Table: constant 1-D of 2^bits(X) entries of int8 | uint8 | int16):
// Y[i] = Table[X[i] - lowest(X's type)] (int8 X: index X + 128, 256 entries; int16 X: index X + 32768, 65536
// entries); Y has Table's dtype. 8-bit X and Y: AVX-512 VBMI byte permutes; int16 X: AVX-512 gathers; else the
// scalar reference.
#include <array>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "kernels/x86/qelementwise.h"
#include "ops/kw_qcommon.h"

namespace kaiwu::ops {
namespace {

bool is_qtype(DType t) { return t == DType::kI8 || t == DType::kU8 || t == DType::kI16; }

std::string check(const std::vector<TensorDesc>& in, const Tensor* table) {
  if (in.size() != 2) return "expects 2 inputs (X, Table), got " + std::to_string(in.size());
  if (!is_qtype(in[0].dtype)) return std::string("X must be int8, uint8 or int16, got ") + dtype_name(in[0].dtype);
  if (!is_qtype(in[1].dtype)) return std::string("Table must be int8, uint8 or int16, got ") + dtype_name(in[1].dtype);
  const int64_t entries = in[0].dtype == DType::kI16 ? 65536 : 256;
  if (in[1].shape != Shape{entries}) {
    if (entries == 256) return "Table must be 1-D with 256 entries, got " + shape_to_string(in[1].shape);
    return "Table must be 1-D with 65536 entries for an int16 X (X must be int8 or uint8 for a 256-entry table), got " +
           shape_to_string(in[1].shape);
  }
  if (!table) return "Table must be a constant";
  return "";
}

Status infer(InferContext& ctx) {
  const std::vector<TensorDesc>& in = ctx.inputs();
  std::string why = check(in, in.size() == 2 ? ctx.value(1) : nullptr);
  if (!why.empty()) return ctx.fail(why);
  ctx.outputs[0] = {in[1].dtype, in[0].shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  std::string why = check(init.inputs, init.inputs.size() == 2 ? init.values[1] : nullptr);
  if (!why.empty()) return init.fail(why);
  const DType xt = init.inputs[0].dtype, yt = init.inputs[1].dtype;
  const bool bytes = xt != DType::kI16 && yt != DType::kI16;
  if (!bytes) {  // int16 on either side: the wide table (4 bytes of padding for the gathers)
    std::vector<uint8_t> table(init.values[1]->nbytes() + 4, 0);
    std::memcpy(table.data(), init.values[1]->raw(), init.values[1]->nbytes());
    const bool ref = init.reference_only;
    *out = make_kernel(
        [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
          const void* x = in[0]->raw();
          void* y = o[0]->raw();
          parallel_for(in[0]->numel(), 1 << 15, [&](int64_t b, int64_t e) {
            if (ref) kernels::ref::qlut_wide(xt, x, yt, table.data(), y, b, e);
            else kernels::x86::qlut_wide(xt, x, yt, table.data(), y, b, e);
          });
          return Status::Ok();
        },
        ref ? "ref" : "x86");
    return Status::Ok();
  }
  std::array<uint8_t, 256> table;
  std::memcpy(table.data(), init.values[1]->raw(), 256);
  const bool x_signed = xt == DType::kI8;
  const bool ref = init.reference_only || !kernels::x86::qlut_vectorized();
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const uint8_t* x = in[0]->data<uint8_t>();
        uint8_t* y = o[0]->data<uint8_t>();
        parallel_for(in[0]->numel(), 1 << 16, [&](int64_t b, int64_t e) {
          if (ref) kernels::ref::qlut(x_signed, x, table.data(), y, b, e);
          else kernels::x86::qlut(x_signed, x, table.data(), y, b, e);
        });
        return Status::Ok();
      },
      ref ? "ref" : "avx512vbmi");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwQLut = {"QLut", "kaiwu", infer, create};
}  // namespace kaiwu::ops
