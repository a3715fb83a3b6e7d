// Shared inference and kernels for ReduceSum / ReduceMean / ReduceMax. Axes come from the `axes` attribute before
// `axes_input_opset` (13 for ReduceSum, 18 for the others) and from the optional second input from then on;
// keepdims (default 1) and noop_with_empty_axes (default 0) as in the spec.
#pragma once
#include <memory>

#include "kernels/ref/reduce.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

Status infer_reduce(InferContext& ctx, kernels::ref::ReduceKind k, int64_t axes_input_opset);
Status create_reduce(const KernelInit& init, kernels::ref::ReduceKind k, int64_t axes_input_opset,
                     std::unique_ptr<Kernel>* out);

#define KAIWU_REDUCE_OP(Ident, OpName, Kind, AxesInputOpset)                         \
  namespace {                                                                        \
  Status infer_##Ident(InferContext& ctx) {                                          \
    return infer_reduce(ctx, kernels::ref::ReduceKind::Kind, AxesInputOpset);        \
  }                                                                                  \
  Status create_##Ident(const KernelInit& init, std::unique_ptr<Kernel>* out) {      \
    return create_reduce(init, kernels::ref::ReduceKind::Kind, AxesInputOpset, out); \
  }                                                                                  \
  }                                                                                  \
  extern const OpDef kOp_##Ident = {OpName, "", infer_##Ident, create_##Ident};

}  // namespace kaiwu::ops
