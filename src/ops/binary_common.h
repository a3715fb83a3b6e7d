// Shared inference and kernels for the broadcasting elementwise ops: binary arithmetic and comparisons, the
// variadic Min/Max, PRelu and Where.
#pragma once
#include <memory>

#include "kernels/ref/binary_ops.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// Shape of input 1 as broadcast before opset 7: with attribute broadcast=1, B's dims align with A's starting at
// `axis` (default: suffix alignment), so trailing 1s are appended. From opset 7 on, b is returned unchanged.
Status legacy_broadcast_shape(const ir::Node& node, int64_t opset, const Shape& a, const Shape& b, Shape* out);

// Binary ops (Add, Sub, Mul, Div, Pow, Equal, Greater, Less): numpy broadcasting; output dtype is input 0's
// (bool for comparisons). Pow's exponent may have another numeric type.
Status infer_binary(InferContext& ctx, kernels::BinaryKind k);
Status create_binary(const KernelInit& init, kernels::BinaryKind k, std::unique_ptr<Kernel>* out);
// Variadic Min/Max over 1..N inputs of one dtype, all broadcast together.
Status infer_variadic(InferContext& ctx, kernels::BinaryKind k);
Status create_variadic(const KernelInit& init, kernels::BinaryKind k, std::unique_ptr<Kernel>* out);
// PRelu: slope broadcast unidirectionally to x (before opset 7 a 1-D slope of size C applies per channel).
Status infer_prelu(InferContext& ctx);
Status create_prelu(const KernelInit& init, std::unique_ptr<Kernel>* out);
// Where(cond, x, y).
Status infer_where(InferContext& ctx);
Status create_where(const KernelInit& init, std::unique_ptr<Kernel>* out);

#define KAIWU_BINARY_OP(Ident, OpName, Kind)                                                       \
  namespace {                                                                                      \
  Status infer_##Ident(InferContext& ctx) { return infer_binary(ctx, kernels::BinaryKind::Kind); } \
  Status create_##Ident(const KernelInit& init, std::unique_ptr<Kernel>* out) {                    \
    return create_binary(init, kernels::BinaryKind::Kind, out);                                    \
  }                                                                                                \
  }                                                                                                \
  extern const OpDef kOp_##Ident = {OpName, "", infer_##Ident, create_##Ident};

}  // namespace kaiwu::ops
