// Shape: the input's dims as a 1-d int64 tensor, optionally the slice [start, end) of them (opset 15).
#include <algorithm>
#include <cstring>

#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
// The dims Shape outputs for an input of shape `in`.
Shape selected_dims(const ir::Node& n, int64_t opset, const Shape& in) {
  const int64_t r = static_cast<int64_t>(in.size());
  int64_t start = opset >= 15 ? n.attr_int("start", 0) : 0;
  int64_t end = opset >= 15 ? n.attr_int("end", r) : r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  return end > start ? Shape(in.begin() + start, in.begin() + end) : Shape{};
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  Shape dims = selected_dims(ctx.node(), ctx.opset(), ctx.input(0).shape);
  ctx.outputs[0] = {DType::kI64, {static_cast<int64_t>(dims.size())}};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  Shape dims = selected_dims(init.node, init.opset, init.inputs[0].shape);
  *out = make_kernel([dims](const std::vector<const Tensor*>&, const std::vector<Tensor*>& o) {
    if (!dims.empty()) std::memcpy(o[0]->raw(), dims.data(), dims.size() * sizeof(int64_t));
    return Status::Ok();
  });
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Shape = {"Shape", "", infer, create, /*shape_only=*/true};
}  // namespace kaiwu::ops
