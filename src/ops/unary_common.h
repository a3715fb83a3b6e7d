// Shared inference and kernel creation for elementwise unary ops (output = input's type and shape).
#pragma once
#include <memory>

#include "kernels/ref/unary.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// Output 0 = input 0 (dtype and shape).
Status infer_same_as_input(InferContext& ctx);
// A unary kernel for any dtype the kind supports: f32 uses the optimized kernel (unless reference_only), other
// types the reference; elements are split in fixed chunks over threads (deterministic).
Status create_unary(const KernelInit& init, kernels::ref::UnaryParams p, std::unique_ptr<Kernel>* out);
// Same, restricted to f32 inputs (for callers that only support float).
Status create_unary_f32(const KernelInit& init, kernels::ref::UnaryParams p, std::unique_ptr<Kernel>* out);
// Op definitions for ops that are just `create_unary` with fixed params and no attributes.
#define KAIWU_SIMPLE_UNARY_OP(Ident, OpName, Kind)                              \
  namespace {                                                                   \
  Status create_##Ident(const KernelInit& init, std::unique_ptr<Kernel>* out) { \
    kernels::ref::UnaryParams p;                                                \
    p.kind = kernels::ref::UnaryKind::Kind;                                     \
    return create_unary(init, p, out);                                          \
  }                                                                             \
  }                                                                             \
  extern const OpDef kOp_##Ident = {OpName, "", infer_same_as_input, create_##Ident};

}  // namespace kaiwu::ops
