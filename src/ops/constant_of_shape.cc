// ConstantOfShape: a tensor of the shape given by the input, filled with the one-element `value` attribute
// (default float 0); its dtype is the value's.
#include <cstring>

#include "core/parallel.h"
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status fill_value(const ir::Node& n, Tensor* t) {
  const ir::Attribute* a = n.attr("value");
  if (!a) {
    *t = Tensor::from_vector<float>({0.f}, {1});
    return Status::Ok();
  }
  if (a->kind != ir::Attribute::Kind::kTensor || !a->t.defined() || a->t.numel() != 1)
    return invalid_argument(n.describe() + ": attribute 'value' must be a tensor of one element");
  *t = a->t;
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'input'");
  const Tensor* v = ctx.require_value(0);
  if (!v) return ctx.value_needed();
  std::vector<int64_t> dims;
  KW_RETURN_IF_ERROR(read_int_list(ctx, *v, "shape", &dims));
  for (int64_t d : dims)
    if (d < 0) return ctx.fail("shape " + shape_to_string(dims) + " has a negative dim");
  Tensor value;
  KW_RETURN_IF_ERROR(fill_value(ctx.node(), &value));
  ctx.outputs[0] = {value.dtype(), dims};
  return Status::Ok();
}
template <typename T>
void fill_typed(void* d, int64_t n, const void* v) {
  T t;
  std::memcpy(&t, v, sizeof(T));
  T* p = static_cast<T*>(d);
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = t;
  });
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  Tensor value;
  KW_RETURN_IF_ERROR(fill_value(init.node, &value));
  *out = make_kernel([value](const std::vector<const Tensor*>&, const std::vector<Tensor*>& o) {
    const int64_t n = o[0]->numel();
    const size_t es = dtype_size(value.dtype());
    switch (es) {
      case 1: fill_typed<uint8_t>(o[0]->raw(), n, value.raw()); break;
      case 2: fill_typed<uint16_t>(o[0]->raw(), n, value.raw()); break;
      case 4: fill_typed<uint32_t>(o[0]->raw(), n, value.raw()); break;
      case 8: fill_typed<uint64_t>(o[0]->raw(), n, value.raw()); break;
      default:
        for (int64_t i = 0; i < n; ++i) std::memcpy(static_cast<char*>(o[0]->raw()) + i * es, value.raw(), es);
    }
    return Status::Ok();
  });
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_ConstantOfShape = {"ConstantOfShape", "", infer, create};
}  // namespace kaiwu::ops
