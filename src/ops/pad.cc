// Pad: constant / reflect / edge (/ wrap, opset 19) padding. Pads (and the constant value) are attributes before
// opset 11 and inputs from 11; the optional `axes` input (opset 18) picks the padded dims. Negative pads crop.
#include <cstring>

#include "core/half.h"
#include "kernels/ref/pad.h"
#include "kernels/x86/pad.h"
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
using kernels::ref::PadMode;

template <typename Ctx>
Status get_params(Ctx& ctx, const ir::Node& n, int64_t opset, const Shape& in, kernels::ref::PadParams* p) {
  const std::string mode = n.attr_string("mode", "constant");
  if (mode == "constant") p->mode = PadMode::kConstant;
  else if (mode == "reflect") p->mode = PadMode::kReflect;
  else if (mode == "edge") p->mode = PadMode::kEdge;
  else if (mode == "wrap") p->mode = PadMode::kWrap;
  else return ctx.fail("unknown mode '" + mode + "'");
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> pads, axes;
  bool present = false, has_axes = false;
  if (opset >= 11) {
    KW_RETURN_IF_ERROR(read_int_input(ctx, 1, "pads", &pads, &present));
    if (!present) return ctx.fail("missing input 'pads'");
    if (opset >= 18) KW_RETURN_IF_ERROR(read_int_input(ctx, 3, "axes", &axes, &has_axes));
  } else {
    const char* key = n.has_attr("pads") ? "pads" : "paddings";
    if (!n.has_attr(key)) return ctx.fail("missing attribute 'pads'");
    pads = n.attr_ints(key);
  }
  if (has_axes) {
    KW_RETURN_IF_ERROR(normalize_axes(ctx, &axes, rank));
  } else {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  const size_t k = axes.size();
  if (pads.size() != 2 * k)
    return ctx.fail("pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * k));
  p->in_shape = in;
  p->out_shape = in;
  p->pad_begin.assign(rank, 0);
  for (size_t i = 0; i < k; ++i) {
    const int64_t a = axes[i];
    p->pad_begin[a] = pads[i];
    p->out_shape[a] = in[a] + pads[i] + pads[i + k];
    if (p->out_shape[a] < 0)
      return ctx.fail("pads " + shape_to_string(pads) + " crop more than the input " + shape_to_string(in));
    if (p->mode != PadMode::kConstant && in[a] == 0 && p->out_shape[a] > 0)
      return ctx.fail("mode '" + mode + "' cannot pad the empty dim " + std::to_string(a));
  }
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  kernels::ref::PadParams p;
  KW_RETURN_IF_ERROR(get_params(ctx, ctx.node(), ctx.opset(), ctx.input(0).shape, &p));
  if (ctx.opset() >= 11 && ctx.has_input(2) && ctx.input(2).dtype != ctx.input(0).dtype)
    return ctx.fail("constant_value has dtype " + std::string(dtype_name(ctx.input(2).dtype)) + ", data has " +
                    dtype_name(ctx.input(0).dtype));
  ctx.outputs[0] = {ctx.input(0).dtype, p.out_shape};
  return Status::Ok();
}

// The bytes of `v` converted to dtype t.
std::vector<uint8_t> scalar_bytes(DType t, double v) {
  std::vector<uint8_t> b(dtype_size(t));
  auto put = [&](auto x) { std::memcpy(b.data(), &x, sizeof(x)); };
  switch (t) {
    case DType::kF32: put(static_cast<float>(v)); break;
    case DType::kF64: put(v); break;
    case DType::kF16: put(float_to_half(static_cast<float>(v))); break;
    case DType::kI8: put(static_cast<int8_t>(v)); break;
    case DType::kU8: put(static_cast<uint8_t>(v)); break;
    case DType::kI16: put(static_cast<int16_t>(v)); break;
    case DType::kU16: put(static_cast<uint16_t>(v)); break;
    case DType::kI32: put(static_cast<int32_t>(v)); break;
    case DType::kU32: put(static_cast<uint32_t>(v)); break;
    case DType::kI64: put(static_cast<int64_t>(v)); break;
    case DType::kU64: put(static_cast<uint64_t>(v)); break;
    case DType::kBool: put(static_cast<uint8_t>(v != 0)); break;
    default: break;
  }
  return b;
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  kernels::ref::PadParams p;
  KW_RETURN_IF_ERROR(get_params(init, init.node, init.opset, init.inputs[0].shape, &p));
  p.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  const std::vector<uint8_t> attr_value =
      scalar_bytes(init.inputs[0].dtype, init.opset < 11 ? init.node.attr_float("value", 0.f) : 0.0);
  const bool value_input = init.opset >= 11 && init.has_input(2), ref_only = init.reference_only;
  kernels::x86::PadPlan plan;
  if (!ref_only) plan = kernels::x86::plan_pad(p);
  *out = make_kernel(
      [p, plan, attr_value, value_input, ref_only](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const void* value = attr_value.data();
        if (value_input && in.size() > 2 && in[2] && in[2]->numel() > 0) value = in[2]->raw();
        if (ref_only) kernels::ref::pad(in[0]->raw(), o[0]->raw(), p, value);
        else kernels::x86::pad(in[0]->raw(), o[0]->raw(), plan, value);
        return Status::Ok();
      },
      ref_only ? "ref" : "x86");
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Pad = {"Pad", "", infer, create};
}  // namespace kaiwu::ops
