// Matrix multiplication through oneDNN's matmul primitive (f32, batched with numpy broadcasting, transposes,
// alpha, broadcast bias, fused post-ops). B is prepacked once when it is constant.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kaiwu/status.h"
#include "kernels/ref/matmul.h"

namespace kaiwu::kernels::x86 {

class MatmulOnednn {
 public:
  // Creates the primitive for `p`. When `b` is given (constant B) it is scaled by alpha and reordered into the
  // primitive's preferred format now; when `bias` is given it is copied now. Null ones are passed to run().
  // Fails (kUnsupported) when oneDNN cannot do it, so callers can fall back to the reference.
  static Status create(const MatmulParams& p, const float* b, const float* bias, std::unique_ptr<MatmulOnednn>* out);
  ~MatmulOnednn();

  // y = post_ops(alpha * A.B + bias). `b` / `bias` are used only when not given at create().
  void run(const float* a, const float* b, const float* bias, float* y);

  const MatmulParams& params() const { return p_; }
  const std::string& impl_info() const { return impl_; }

 private:
  MatmulOnednn() = default;
  MatmulParams p_;
  std::string impl_;
  dnnl::matmul prim_;
  dnnl::memory::desc a_md_, b_user_md_, b_md_, bias_md_, y_md_;
  void* packed_b_ = nullptr;
  std::vector<float> bias_;
  bool b_constant_ = false, bias_constant_ = false;
  bool bias_native_ = false;    // bias goes to the primitive (else: dst is prefilled and a sum post-op adds it)
};

}  // namespace kaiwu::kernels::x86
