// Clip: y = min(max(x, min), max). Before opset 11 min/max are float attributes; from 11 they are optional scalar
// inputs of x's type (read at prepare time when constant, else at run time).
#include <cstring>
#include <limits>

#include "core/parallel.h"
#include "kernels/x86/unary.h"
#include "ops/unary_common.h"

namespace kaiwu::ops {
namespace {

namespace kr = kernels::ref;
constexpr int64_t kGrain = 16384;

Status infer(InferContext& ctx) {
  KW_RETURN_IF_ERROR(infer_same_as_input(ctx));
  for (size_t i = 1; i < 3 && i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    if (ctx.input(i).dtype != ctx.input(0).dtype) return ctx.fail("min/max must have the input's dtype");
    if (shape_numel(ctx.input(i).shape) > 1) return ctx.fail("min/max must be scalars");
  }
  return Status::Ok();
}

// Bounds as 8 raw bytes each (one element of x's dtype), with presence flags.
struct Bounds {
  uint8_t lo[8] = {}, hi[8] = {};
  bool has_lo = false, has_hi = false;
};

bool read_bound(const Tensor* t, uint8_t* dst) {
  if (!t || t->numel() < 1) return false;
  std::memcpy(dst, t->raw(), dtype_size(t->dtype()));
  return true;
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const DType dt = init.inputs[0].dtype;
  if (!dtype_is_float(dt) && !dtype_is_integer(dt))
    return unsupported(init.node.describe() + ": dtype " + dtype_name(dt) + " is not supported");
  Bounds fixed;
  bool dynamic = false;  // bounds come from non-constant inputs
  if (init.opset < 11) {
    if (dt != DType::kF32) return unsupported(init.node.describe() + ": Clip before opset 11 supports f32 only");
    float lo = init.node.attr_float("min", -std::numeric_limits<float>::infinity());
    float hi = init.node.attr_float("max", std::numeric_limits<float>::infinity());
    std::memcpy(fixed.lo, &lo, 4);
    std::memcpy(fixed.hi, &hi, 4);
    fixed.has_lo = fixed.has_hi = true;
  } else {
    for (size_t i = 1; i < 3; ++i)
      if (init.has_input(i) && !init.values[i]) dynamic = true;
    if (!dynamic) {
      fixed.has_lo = init.has_input(1) && read_bound(init.values[1], fixed.lo);
      fixed.has_hi = init.has_input(2) && read_bound(init.values[2], fixed.hi);
    }
  }
  const bool fast = dt == DType::kF32 && !init.reference_only;
  *out = make_kernel(
      [fixed, dynamic, dt, fast](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        Bounds b = fixed;
        if (dynamic) {
          b.has_lo = in.size() > 1 && read_bound(in[1], b.lo);
          b.has_hi = in.size() > 2 && read_bound(in[2], b.hi);
        }
        const int64_t n = in[0]->numel();
        if (fast) {
          kr::UnaryParams p;
          p.kind = kr::UnaryKind::kClip;
          p.alpha = -std::numeric_limits<float>::infinity();
          p.beta = std::numeric_limits<float>::infinity();
          if (b.has_lo) std::memcpy(&p.alpha, b.lo, 4);
          if (b.has_hi) std::memcpy(&p.beta, b.hi, 4);
          const float* x = in[0]->data<float>();
          float* y = o[0]->data<float>();
          parallel_for(n, kGrain, [&](int64_t s, int64_t e) { kernels::x86::unary_f32(x + s, y + s, e - s, p); });
          return Status::Ok();
        }
        const size_t es = dtype_size(dt);
        const uint8_t* x = static_cast<const uint8_t*>(in[0]->raw());
        uint8_t* y = static_cast<uint8_t*>(o[0]->raw());
        parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
          kr::clip_any(dt, x + s * es, y + s * es, e - s, b.has_lo ? b.lo : nullptr, b.has_hi ? b.hi : nullptr);
        });
        return Status::Ok();
      },
      fast ? kernels::x86::unary_f32_impl(kr::UnaryKind::kClip) : "ref");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_Clip = {"Clip", "", infer, create};
}  // namespace kaiwu::ops
