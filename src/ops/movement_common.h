// Shared helpers of the shape and data-movement ops (Concat, Split, Slice, Reshape, Transpose, Pad, ...): reading
// integer inputs/attributes, and kernels that move elements of any dtype as bytes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kernels/ref/strided_copy.h"
#include "kernels/x86/strided_copy.h"
#include "ops/op_def.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {

// Reads a 0-d or 1-d integer tensor (any integer dtype) into `out`; `ctx` is an InferContext or KernelInit.
template <typename Ctx>
Status read_int_list(const Ctx& ctx, const Tensor& t, const std::string& what, std::vector<int64_t>* out) {
  if (!dtype_is_integer(t.dtype()))
    return ctx.fail(what + " must be an integer tensor, got " + dtype_name(t.dtype()));
  if (t.rank() > 1) return ctx.fail(what + " must be 1-D, got shape " + shape_to_string(t.shape()));
  *out = t.to_i64_vector();
  return Status::Ok();
}

// Normalizes axes (possibly negative) against `rank`; fails on out-of-range or repeated axes.
template <typename Ctx>
Status normalize_axes(const Ctx& ctx, std::vector<int64_t>* axes, int64_t rank, const std::string& what = "axes") {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& a : *axes) {
    int64_t n;
    if (!normalize_axis(a, rank, &n))
      return ctx.fail(what + " value " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    if (seen[n]) return ctx.fail(what + " has the axis " + std::to_string(n) + " more than once");
    seen[n] = true;
    a = n;
  }
  return Status::Ok();
}

// The value of a shape-deciding input i: at inference, records that it is needed when unknown (see
// InferContext::require_value); at kernel creation, the constant value or null.
inline const Tensor* shape_input_value(InferContext& ctx, size_t i) { return ctx.require_value(i); }
inline const Tensor* shape_input_value(const KernelInit& init, size_t i) {
  return i < init.values.size() ? init.values[i] : nullptr;
}
// The status to return when shape_input_value gave null.
inline Status missing_value(const InferContext& ctx, size_t) { return ctx.value_needed(); }
inline Status missing_value(const KernelInit& init, size_t i) {
  return init.fail("input " + std::to_string(i) + " is not known at prepare time");
}

// Reads the optional integer-list input i into `v` (via shape_input_value); `present` tells whether it was given.
template <typename Ctx>
Status read_int_input(Ctx& ctx, size_t i, const std::string& what, std::vector<int64_t>* v, bool* present) {
  *present = ctx.has_input(i);
  if (!*present) return Status::Ok();
  const Tensor* t = shape_input_value(ctx, i);
  if (!t) return missing_value(ctx, i);
  return read_int_list(ctx, *t, what, v);
}

// One strided copy from input `in` into output `out`, offsets in bytes from the tensors' starts.
struct CopyJob {
  int in = 0, out = 0;
  int64_t src_offset = 0, dst_offset = 0;
  kernels::ref::StridedCopyParams params;
};

// A kernel running the copy jobs in order (reference or planned x86 copies, per init.reference_only).
std::unique_ptr<Kernel> make_copy_jobs_kernel(const KernelInit& init, std::vector<CopyJob> jobs);

// A kernel copying input 0 to output 0 byte for byte (Reshape, Flatten, Squeeze, Unsqueeze, Identity).
std::unique_ptr<Kernel> make_byte_copy_kernel(const KernelInit& init);

// Inference for ops whose output 0 is input 0 with another shape; fails if the element counts differ.
Status set_reshaped_output(InferContext& ctx, Shape shape);

}  // namespace kaiwu::ops
