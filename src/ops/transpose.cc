// Transpose: permutes the dims (perm attribute, default reversed), as one planned strided copy.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
template <typename Ctx>
Status get_perm(const Ctx& ctx, const ir::Node& n, size_t rank, std::vector<int64_t>* perm) {
  if (n.has_attr("perm")) {
    *perm = n.attr_ints("perm");
  } else {
    perm->resize(rank);
    for (size_t i = 0; i < rank; ++i) (*perm)[i] = static_cast<int64_t>(rank - 1 - i);
  }
  if (perm->size() != rank)
    return ctx.fail("perm has " + std::to_string(perm->size()) + " entries for an input of rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  for (int64_t p : *perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) return ctx.fail("perm " + shape_to_string(*perm) + " is not a permutation");
    seen[p] = true;
  }
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  std::vector<int64_t> perm;
  KW_RETURN_IF_ERROR(get_perm(ctx, ctx.node(), in.size(), &perm));
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[perm[i]];
  ctx.outputs[0] = {ctx.input(0).dtype, out};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  std::vector<int64_t> perm;
  KW_RETURN_IF_ERROR(get_perm(init, init.node, in.size(), &perm));
  const std::vector<int64_t> in_strides = strides_of(in);
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  job.params.shape = init.outputs[0].shape;
  job.params.dst_strides = strides_of(init.outputs[0].shape);
  for (int64_t p : perm) job.params.src_strides.push_back(in_strides[p]);
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_Transpose = {"Transpose", "", infer, create};
}  // namespace kaiwu::ops
