// Squeeze: removes the given unit dims (axes attribute before opset 13, optional input from 13), or every unit dim.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  const Shape& in = ctx.input(0).shape;
  std::vector<int64_t> axes;
  bool given = false;
  if (ctx.has_input(1)) {
    const Tensor* v = ctx.require_value(1);
    if (!v) return ctx.value_needed();
    KW_RETURN_IF_ERROR(read_int_list(ctx, *v, "axes", &axes));
    given = true;
  } else if (ctx.node().has_attr("axes")) {
    axes = ctx.node().attr_ints("axes");
    given = true;
  }
  std::vector<bool> drop(in.size(), false);
  if (given && !axes.empty()) {  // an empty list squeezes every unit dim, like no axes
    KW_RETURN_IF_ERROR(normalize_axes(ctx, &axes, static_cast<int64_t>(in.size())));
    for (int64_t a : axes) {
      if (in[a] != 1)
        return ctx.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(in[a]) + " (shape " +
                        shape_to_string(in) + ")");
      drop[a] = true;
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out.push_back(in[i]);
  return set_reshaped_output(ctx, std::move(out));
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  *out = make_byte_copy_kernel(init);
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Squeeze = {"Squeeze", "", infer, create};
}  // namespace kaiwu::ops
