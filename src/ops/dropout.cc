// Dropout. Inference (the default, and always before opset 12): y = x and the optional mask is all true.
// Training mode (opset 12+, training_mode input true, ratio > 0): y = mask * x / (1 - ratio) with a mask drawn
// from the generator seeded by the `seed` attribute (default 0, so runs are reproducible; see kernels/ref/dropout.h).
#include <cstring>
#include <vector>

#include "kernels/ref/dropout.h"
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
// The mask's dtype: the input's before opset 10, bool after.
DType mask_dtype(int64_t opset, DType x) { return opset >= 10 ? DType::kBool : x; }

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  const DType t = ctx.input(0).dtype;
  if (!dtype_is_float(t)) return ctx.fail("dtype " + std::string(dtype_name(t)) + " is not supported");
  ctx.outputs[0] = ctx.input(0);
  if (ctx.outputs.size() > 1) ctx.outputs[1] = {mask_dtype(ctx.opset(), t), ctx.input(0).shape};
  if (ctx.has_input(1) && !dtype_is_float(ctx.input(1).dtype)) return ctx.fail("ratio must be a float scalar");
  if (ctx.has_input(2) && ctx.input(2).dtype != DType::kBool) return ctx.fail("training_mode must be a bool scalar");
  return Status::Ok();
}

// Writes n ones of dtype t at p (the all-true mask).
void fill_ones(void* p, DType t, int64_t n) {
  switch (t) {
    case DType::kF32: for (int64_t i = 0; i < n; ++i) static_cast<float*>(p)[i] = 1.f; break;
    case DType::kF64: for (int64_t i = 0; i < n; ++i) static_cast<double*>(p)[i] = 1.0; break;
    case DType::kF16: for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(p)[i] = 0x3C00; break;
    default: std::memset(p, 1, static_cast<size_t>(n) * dtype_size(t)); break;  // bool
  }
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const bool can_train = init.opset >= 12;
  const uint32_t seed = static_cast<uint32_t>(init.node.attr_int("seed", 0));
  const std::string name = init.node.describe();
  *out = make_kernel([can_train, seed, name](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    const Tensor& x = *in[0];
    const int64_t n = x.numel();
    Tensor* mask = o.size() > 1 ? o[1] : nullptr;
    bool training = can_train && in.size() > 2 && in[2] && in[2]->numel() > 0 && in[2]->get_f64(0) != 0;
    double ratio = can_train && in.size() > 1 && in[1] && in[1]->numel() > 0 ? in[1]->get_f64(0) : 0.5;
    if (!training || ratio == 0) {
      if (x.raw() != o[0]->raw() && x.nbytes()) std::memcpy(o[0]->raw(), x.raw(), x.nbytes());
      if (mask) fill_ones(mask->raw(), mask->dtype(), n);
      return Status::Ok();
    }
    if (!(ratio > 0 && ratio < 1)) return invalid_argument(name + ": ratio must be in [0, 1), got " + std::to_string(ratio));
    std::vector<uint8_t> keep_buf(static_cast<size_t>(n));
    bool* keep = mask && mask->dtype() == DType::kBool ? mask->data<bool>() : reinterpret_cast<bool*>(keep_buf.data());
    kernels::ref::dropout_keep_mask(seed, ratio, n, keep);
    const double scale = 1.0 / (1.0 - ratio);
    switch (x.dtype()) {
      case DType::kF32: kernels::ref::dropout_apply_f32(x.data<float>(), keep, static_cast<float>(scale), o[0]->data<float>(), n); break;
      case DType::kF64: kernels::ref::dropout_apply_f64(x.data<double>(), keep, scale, o[0]->data<double>(), n); break;
      case DType::kF16:
        kernels::ref::dropout_apply_f16(x.data<uint16_t>(), keep, static_cast<float>(scale), o[0]->data<uint16_t>(), n);
        break;
      default: return unsupported(name + ": dtype " + dtype_name(x.dtype()) + " is not supported");
    }
    return Status::Ok();
  });
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Dropout = {"Dropout", "", infer, create};
}  // namespace kaiwu::ops
