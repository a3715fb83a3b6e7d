#include "ops/movement_common.h"

#include <cstring>

namespace kaiwu::ops {
namespace {

class CopyJobsKernel : public Kernel {
 public:
  CopyJobsKernel(std::vector<CopyJob> jobs, bool ref_only) : jobs_(std::move(jobs)), ref_only_(ref_only) {
    if (!ref_only_)
      for (const auto& j : jobs_) plans_.push_back(kernels::x86::plan_strided_copy(j.params));
  }
  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    for (size_t i = 0; i < jobs_.size(); ++i) {
      const CopyJob& j = jobs_[i];
      const char* s = static_cast<const char*>(in[j.in]->raw()) + j.src_offset;
      char* d = static_cast<char*>(out[j.out]->raw()) + j.dst_offset;
      if (ref_only_) kernels::ref::strided_copy(s, d, j.params);
      else kernels::x86::strided_copy(s, d, plans_[i]);
    }
    return Status::Ok();
  }
  const char* impl_name() const override { return ref_only_ ? "ref" : "x86"; }

 private:
  std::vector<CopyJob> jobs_;
  std::vector<kernels::x86::StridedCopyPlan> plans_;
  bool ref_only_;
};

}  // namespace

std::unique_ptr<Kernel> make_copy_jobs_kernel(const KernelInit& init, std::vector<CopyJob> jobs) {
  return std::make_unique<CopyJobsKernel>(std::move(jobs), init.reference_only);
}

std::unique_ptr<Kernel> make_byte_copy_kernel(const KernelInit& init) {
  const bool ref_only = init.reference_only;
  return make_kernel(
      [ref_only](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
        const size_t n = out[0]->nbytes();
        if (in[0]->nbytes() != n) return internal_error("byte copy: input and output sizes differ");
        if (n == 0 || in[0]->raw() == out[0]->raw()) return Status::Ok();
        if (ref_only) std::memcpy(out[0]->raw(), in[0]->raw(), n);
        else kernels::x86::copy_bytes(in[0]->raw(), out[0]->raw(), n);
        return Status::Ok();
      },
      ref_only ? "ref" : "x86");
}

Status set_reshaped_output(InferContext& ctx, Shape shape) {
  if (shape_numel(shape) != shape_numel(ctx.input(0).shape))
    return ctx.fail("cannot reshape " + shape_to_string(ctx.input(0).shape) + " (" +
                    std::to_string(shape_numel(ctx.input(0).shape)) + " elements) to " + shape_to_string(shape));
  ctx.outputs[0] = {ctx.input(0).dtype, std::move(shape)};
  return Status::Ok();
}

}  // namespace kaiwu::ops
