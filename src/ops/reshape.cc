// Reshape: the data with a new shape from the `shape` input (Reshape-5+) or attribute (Reshape-1); 0 copies the
// input dim (unless allowzero=1, opset 14+), -1 is inferred from the element count.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  std::vector<int64_t> spec;
  if (ctx.has_input(1)) {
    const Tensor* v = ctx.require_value(1);
    if (!v) return ctx.value_needed();
    KW_RETURN_IF_ERROR(read_int_list(ctx, *v, "shape", &spec));
  } else if (ctx.node().has_attr("shape")) {
    spec = ctx.node().attr_ints("shape");
  } else {
    return ctx.fail("missing input 'shape'");
  }
  const bool allowzero = ctx.opset() >= 14 && ctx.node().attr_int("allowzero", 0) != 0;
  const Shape& in = ctx.input(0).shape;
  Shape out(spec.size());
  int infer_at = -1;
  int64_t known = 1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t v = spec[i];
    if (v == -1) {
      if (infer_at >= 0) return ctx.fail("shape " + shape_to_string(spec) + " has more than one -1");
      infer_at = static_cast<int>(i);
      continue;
    }
    if (v == 0 && !allowzero) {
      if (i >= in.size())
        return ctx.fail("shape " + shape_to_string(spec) + " copies dim " + std::to_string(i) + " (0) of an input of rank " +
                        std::to_string(in.size()));
      v = in[i];
    }
    if (v < 0) return ctx.fail("shape " + shape_to_string(spec) + " has the invalid dim " + std::to_string(v));
    if (v == 0) has_zero = true;
    out[i] = v;
    known *= v;
  }
  if (infer_at >= 0) {
    const int64_t total = shape_numel(in);
    if (has_zero || known == 0)
      return ctx.fail("shape " + shape_to_string(spec) + ": -1 cannot be inferred next to a zero dim");
    if (total % known != 0)
      return ctx.fail("cannot reshape " + shape_to_string(in) + " to " + shape_to_string(spec));
    out[infer_at] = total / known;
  }
  return set_reshaped_output(ctx, std::move(out));
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  *out = make_byte_copy_kernel(init);
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Reshape = {"Reshape", "", infer, create};
}  // namespace kaiwu::ops
