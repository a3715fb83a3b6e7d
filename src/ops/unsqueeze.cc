// Unsqueeze: inserts unit dims at the given output positions (axes attribute before opset 13, input from 13).
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  const Shape& in = ctx.input(0).shape;
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    const Tensor* v = ctx.require_value(1);
    if (!v) return ctx.value_needed();
    KW_RETURN_IF_ERROR(read_int_list(ctx, *v, "axes", &axes));
  } else if (ctx.node().has_attr("axes")) {
    axes = ctx.node().attr_ints("axes");
  } else {
    return ctx.fail("missing axes");
  }
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  KW_RETURN_IF_ERROR(normalize_axes(ctx, &axes, out_rank));
  std::vector<bool> unit(out_rank, false);
  for (int64_t a : axes) unit[a] = true;
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(unit[i] ? 1 : in[next++]);
  return set_reshaped_output(ctx, std::move(out));
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  *out = make_byte_copy_kernel(init);
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Unsqueeze = {"Unsqueeze", "", infer, create};
}  // namespace kaiwu::ops
