// DepthToSpace: [N, C, H, W] -> [N, C/b^2, H*b, W*b], channel blocks in DCR (default) or CRD order (opset 11
// `mode`); a 6-d strided copy.
#include "ops/movement_common.h"

namespace kaiwu::ops {
namespace {
template <typename Ctx>
Status check(const Ctx& ctx, const ir::Node& n, const Shape& in, int64_t* b, bool* crd) {
  *b = n.attr_int("blocksize", 0);
  const std::string mode = n.attr_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return ctx.fail("unknown mode '" + mode + "'");
  *crd = mode == "CRD";
  if (in.size() != 4) return ctx.fail("input must be 4-d, got " + shape_to_string(in));
  if (*b <= 0) return ctx.fail("blocksize must be positive");
  if (in[1] % (*b * *b) != 0)
    return ctx.fail("channels " + std::to_string(in[1]) + " are not a multiple of blocksize^2 = " + std::to_string(*b * *b));
  return Status::Ok();
}
Status infer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const Shape& in = ctx.input(0).shape;
  int64_t b = 0;
  bool crd = false;
  KW_RETURN_IF_ERROR(check(ctx, ctx.node(), in, &b, &crd));
  ctx.outputs[0] = {ctx.input(0).dtype, {in[0], in[1] / (b * b), in[2] * b, in[3] * b}};
  return Status::Ok();
}
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const Shape& in = init.inputs[0].shape;
  int64_t b = 0;
  bool crd = false;
  KW_RETURN_IF_ERROR(check(init, init.node, in, &b, &crd));
  const int64_t n = in[0], c = in[1] / (b * b), h = in[2], w = in[3], hw = h * w;
  // Output as [n, c, h, bi, w, bj]; source channel is (bi*b + bj)*c + c' (DCR) or c'*b*b + bi*b + bj (CRD).
  CopyJob job;
  job.params.elem_size = static_cast<int64_t>(dtype_size(init.inputs[0].dtype));
  job.params.shape = {n, c, h, b, w, b};
  job.params.src_strides = crd ? std::vector<int64_t>{in[1] * hw, b * b * hw, w, b * hw, 1, hw}
                               : std::vector<int64_t>{in[1] * hw, hw, w, b * c * hw, 1, c * hw};
  job.params.dst_strides = strides_of(job.params.shape);
  *out = make_copy_jobs_kernel(init, {job});
  return Status::Ok();
}
}  // namespace
extern const OpDef kOp_DepthToSpace = {"DepthToSpace", "", infer, create};
}  // namespace kaiwu::ops
