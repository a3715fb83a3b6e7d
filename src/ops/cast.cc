// Cast: converts every element to the type of the `to` attribute (an ONNX TensorProto data type; a type name
// string before opset 6). Conversion rules: kernels/ref/cast.h.
#include "kernels/ref/cast.h"

#include <cctype>
#include <string>

#include "core/parallel.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

DType dtype_of_onnx(int64_t t) {
  switch (t) {
    case 1: return DType::kF32;
    case 2: return DType::kU8;
    case 3: return DType::kI8;
    case 4: return DType::kU16;
    case 5: return DType::kI16;
    case 6: return DType::kI32;
    case 7: return DType::kI64;
    case 9: return DType::kBool;
    case 10: return DType::kF16;
    case 11: return DType::kF64;
    case 12: return DType::kU32;
    case 13: return DType::kU64;
    default: return DType::kUndefined;
  }
}

Status target_type(const ir::Node& node, DType* out) {
  const ir::Attribute* a = node.attr("to");
  if (!a) return invalid_argument(node.describe() + ": attribute 'to' is required");
  if (a->kind == ir::Attribute::Kind::kString) {
    std::string s = a->s;
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    *out = dtype_from_name(s);
    if (*out == DType::kUndefined) return unsupported(node.describe() + ": cannot cast to '" + a->s + "'");
    return Status::Ok();
  }
  *out = dtype_of_onnx(a->i);
  if (*out == DType::kUndefined)
    return unsupported(node.describe() + ": cannot cast to ONNX type " + std::to_string(a->i) +
                       " (strings, bfloat16 and float8 are not supported)");
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  DType to;
  KW_RETURN_IF_ERROR(target_type(ctx.node(), &to));
  ctx.outputs[0] = {to, ctx.input(0).shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  DType to;
  KW_RETURN_IF_ERROR(target_type(init.node, &to));
  const DType from = init.inputs[0].dtype;
  if (dtype_size(from) == 0) return unsupported(init.node.describe() + ": unsupported input dtype");
  *out = make_kernel([from, to](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    const uint8_t* x = static_cast<const uint8_t*>(in[0]->raw());
    uint8_t* y = static_cast<uint8_t*>(o[0]->raw());
    const size_t si = dtype_size(from), so = dtype_size(to);
    parallel_for(in[0]->numel(), 32768,
                 [&](int64_t b, int64_t e) { kernels::ref::cast(from, x + b * si, to, y + b * so, e - b); });
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_Cast = {"Cast", "", infer, create};
}  // namespace kaiwu::ops
