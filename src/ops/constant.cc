// Constant: a tensor from the node's value / value_float(s) / value_int(s) attribute (string and sparse values are
// not supported).
#include <cstring>

#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
Status constant_value(const ir::Node& n, Tensor* t) {
  using Kind = ir::Attribute::Kind;
  auto bad = [&](const std::string& m) { return invalid_argument(n.describe() + ": " + m); };
  if (const ir::Attribute* a = n.attr("value")) {
    if (a->kind != Kind::kTensor || !a->t.defined()) return bad("attribute 'value' is not a tensor");
    *t = a->t;
    return Status::Ok();
  }
  if (const ir::Attribute* a = n.attr("value_float")) {
    if (a->kind != Kind::kFloat) return bad("attribute 'value_float' is not a float");
    *t = Tensor::from_vector<float>({a->f}, {});
    return Status::Ok();
  }
  if (const ir::Attribute* a = n.attr("value_floats")) {
    if (a->kind != Kind::kFloats) return bad("attribute 'value_floats' is not a list of floats");
    *t = Tensor::from_vector<float>(a->floats, {static_cast<int64_t>(a->floats.size())});
    return Status::Ok();
  }
  if (const ir::Attribute* a = n.attr("value_int")) {
    if (a->kind != Kind::kInt) return bad("attribute 'value_int' is not an int");
    *t = Tensor::from_vector<int64_t>({a->i}, {});
    return Status::Ok();
  }
  if (const ir::Attribute* a = n.attr("value_ints")) {
    if (a->kind != Kind::kInts) return bad("attribute 'value_ints' is not a list of ints");
    *t = Tensor::from_vector<int64_t>(a->ints, {static_cast<int64_t>(a->ints.size())});
    return Status::Ok();
  }
  if (n.has_attr("value_string") || n.has_attr("value_strings"))
    return unsupported(n.describe() + ": string constants (value_string/value_strings) are not supported");
  if (n.has_attr("sparse_value")) return unsupported(n.describe() + ": sparse constants are not supported");
  return bad("has no value attribute (value, value_float(s) or value_int(s))");
}
Status infer(InferContext& ctx) {
  Tensor t;
  KW_RETURN_IF_ERROR(constant_value(ctx.node(), &t));
  ctx.outputs[0] = {t.dtype(), t.shape()};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  Tensor t;
  KW_RETURN_IF_ERROR(constant_value(init.node, &t));
  *out = make_kernel([t](const std::vector<const Tensor*>&, const std::vector<Tensor*>& o) {
    if (o[0]->nbytes() != t.nbytes()) return internal_error("Constant: output size mismatch");
    if (t.nbytes()) std::memcpy(o[0]->raw(), t.raw(), t.nbytes());
    return Status::Ok();
  });
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Constant = {"Constant", "", infer, create};
}  // namespace kaiwu::ops
