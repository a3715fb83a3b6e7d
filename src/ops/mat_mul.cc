// MatMul: numpy matmul (batch broadcasting, 1-D operands), ONNX opsets 1..19. f32 through oneDNN matmul (B
// prepacked when constant; batches of A folded into rows when B has none); other types on the reference.
#include "kernels/ref/matmul.h"
#include "kernels/x86/matmul_onednn.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

using kernels::MatmulParams;

// Params and output shape from the operand shapes.
Status matmul_params(const ir::Node& node, const Shape& a0, const Shape& b0, MatmulParams* p, Shape* y) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (a0.empty() || b0.empty()) return fail("operands must have rank >= 1");
  Shape a = a0, b = b0;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  p->m = a[a.size() - 2];
  p->k = a.back();
  p->n = b.back();
  if (b[b.size() - 2] != p->k)
    return fail("inner dimensions differ: A " + shape_to_string(a0) + ", B " + shape_to_string(b0));
  const size_t r = std::max(a.size(), b.size()) - 2;
  p->a_batch.assign(r, 1);
  p->b_batch.assign(r, 1);
  for (size_t i = 0; i + 2 < a.size(); ++i) p->a_batch[r - (a.size() - 2) + i] = a[i];
  for (size_t i = 0; i + 2 < b.size(); ++i) p->b_batch[r - (b.size() - 2) + i] = b[i];
  y->clear();
  for (size_t i = 0; i < r; ++i) {
    int64_t da = p->a_batch[i], db = p->b_batch[i];
    if (da != db && da != 1 && db != 1)
      return fail("batch dimensions of A " + shape_to_string(a0) + " and B " + shape_to_string(b0) +
                  " do not broadcast");
    y->push_back(da == 1 ? db : da);
  }
  if (a0.size() > 1) y->push_back(p->m);
  if (b0.size() > 1) y->push_back(p->n);
  return Status::Ok();
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs A and B");
  if (ctx.input(0).dtype != ctx.input(1).dtype) return ctx.fail("A and B have different dtypes");
  MatmulParams p;
  Shape y;
  KW_RETURN_IF_ERROR(matmul_params(ctx.node(), ctx.input(0).shape, ctx.input(1).shape, &p, &y));
  ctx.outputs[0] = {ctx.input(0).dtype, y};
  return Status::Ok();
}

template <typename T>
Status create_typed(const KernelInit& init, MatmulParams p, std::unique_ptr<Kernel>* out) {
  auto ref = [p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    if (o[0]->numel()) kernels::ref::matmul<T>(p, in[0]->data<T>(), in[1]->data<T>(), nullptr, o[0]->data<T>());
    return Status::Ok();
  };
  if constexpr (std::is_same<T, float>::value) {
    if (!init.reference_only && p.m > 0 && p.n > 0 && p.k > 0) {
      MatmulParams q = p;
      bool b_has_batch = false;
      for (int64_t d : q.b_batch) b_has_batch |= d != 1;
      if (!b_has_batch) {  // fold A's batches into rows: one 2-D GEMM with a (prepackable) B
        for (int64_t d : q.a_batch) q.m *= d;
        q.a_batch.clear();
        q.b_batch.clear();
      }
      const Tensor* b = init.values.size() > 1 ? init.values[1] : nullptr;
      std::unique_ptr<kernels::x86::MatmulOnednn> fast;
      if (kernels::x86::MatmulOnednn::create(q, b ? b->data<float>() : nullptr, nullptr, &fast).ok()) {
        std::shared_ptr<kernels::x86::MatmulOnednn> f(std::move(fast));
        *out = make_kernel(
            [f](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
              f->run(in[0]->data<float>(), in[1]->data<float>(), nullptr, o[0]->data<float>());
              return Status::Ok();
            },
            "onednn");
        return Status::Ok();
      }
    }
  }
  *out = make_kernel(ref);
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  MatmulParams p;
  Shape y;
  KW_RETURN_IF_ERROR(matmul_params(init.node, init.inputs[0].shape, init.inputs[1].shape, &p, &y));
  switch (init.inputs[0].dtype) {
    case DType::kF32: return create_typed<float>(init, std::move(p), out);
    case DType::kF64: return create_typed<double>(init, std::move(p), out);
    case DType::kI32: return create_typed<int32_t>(init, std::move(p), out);
    case DType::kI64: return create_typed<int64_t>(init, std::move(p), out);
    case DType::kU32: return create_typed<uint32_t>(init, std::move(p), out);
    case DType::kU64: return create_typed<uint64_t>(init, std::move(p), out);
    default:
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[0].dtype) + " is not supported");
  }
}

}  // namespace
extern const OpDef kOp_MatMul = {"MatMul", "", infer, create};
}  // namespace kaiwu::ops
