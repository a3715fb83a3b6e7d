// Resize (ONNX opsets 10..19): nearest / linear / cubic over any axes, every coordinate transform, scales or sizes,
// roi for tf_crop_and_resize, and opset 18's antialias, axes and keep_aspect_ratio_policy.
#include "ops/resize_common.h"

namespace kaiwu::ops {
namespace {

// Input slots of roi / scales / sizes for the opset (-1 when absent).
void slots(int64_t opset, int* roi, int* scales, int* sizes) {
  if (opset < 11) {
    *roi = -1;
    *scales = 1;
    *sizes = -1;
  } else {
    *roi = 1;
    *scales = 2;
    *sizes = 3;
  }
}

template <typename Ctx>
const Tensor* value_of(const Ctx& c, int i) {
  return i >= 0 && static_cast<size_t>(i) < c.values.size() ? c.values[i] : nullptr;
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input X");
  kernels::ResizeParams p;
  KW_RETURN_IF_ERROR(resize_attrs(ctx.node(), ctx.opset(), false, &p));
  int ri, si, zi;
  slots(ctx.opset(), &ri, &si, &zi);
  const Tensor *roi = nullptr, *scales = nullptr, *sizes = nullptr;
  if (si >= 0 && ctx.has_input(si) && !(scales = ctx.require_value(si))) return ctx.value_needed();
  if (zi >= 0 && ctx.has_input(zi) && !(sizes = ctx.require_value(zi))) return ctx.value_needed();
  if (p.coord == kernels::ResizeCoord::kTfCropAndResize && ri >= 0 && ctx.has_input(ri) &&
      !(roi = ctx.require_value(ri)))
    return ctx.value_needed();
  KW_RETURN_IF_ERROR(resize_geometry(ctx.node(), ctx.input(0).shape, roi, scales, sizes, &p));
  ctx.outputs[0] = {ctx.input(0).dtype, p.out_shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ResizeParams p;
  KW_RETURN_IF_ERROR(resize_attrs(init.node, init.opset, false, &p));
  int ri, si, zi;
  slots(init.opset, &ri, &si, &zi);
  const Tensor* roi = init.has_input(ri) ? value_of(init, ri) : nullptr;
  const Tensor* scales = init.has_input(si) ? value_of(init, si) : nullptr;
  const Tensor* sizes = zi >= 0 && init.has_input(zi) ? value_of(init, zi) : nullptr;
  KW_RETURN_IF_ERROR(resize_geometry(init.node, init.inputs[0].shape, roi, scales, sizes, &p));
  return create_resize_kernel(init, init.inputs[0].dtype, p, out);
}

}  // namespace
extern const OpDef kOp_Resize = {"Resize", "", infer, create};
}  // namespace kaiwu::ops
