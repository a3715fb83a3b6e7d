// Convolution and transposed convolution through oneDNN (f32, 1-D/2-D/3-D, groups, dilations, asymmetric pads,
// fused post-ops). Prepare once per node (primitive + weights reordered to the primitive's preferred format), then run.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kaiwu/status.h"
#include "kernels/ref/conv.h"

namespace kaiwu::kernels::x86 {

// How channels-first activations are handed to the primitive (the user's tensors are always plain, in
// ConvParams::src_layout / dst_layout): kBlocked lets oneDNN pick its format (nChw16c, ...) and reorders them
// around the primitive in run(); kPlain makes the primitive read/write nchw directly. Channels-last tensors are
// always used directly. kDefault is the measured best choice (kBlocked).
enum class OnednnActFormat { kDefault, kPlain, kBlocked };

struct ConvOnednnOptions {
  bool transposed = false;  // ConvTranspose (weights [C_in, C_out / groups, k...]) instead of Conv
  OnednnActFormat act_format = OnednnActFormat::kDefault;
};

class ConvOnednn {
 public:
  // Creates the primitive for `p`. `weights` (ONNX layout) and `bias` ([C_out]) are reordered/copied now when
  // given; when null they must be passed to every run() (non-constant inputs). Fails (kUnsupported) when oneDNN has
  // no implementation for the params, so callers can fall back to the reference.
  static Status create(const ConvParams& p, const float* weights, const float* bias, std::unique_ptr<ConvOnednn>* out,
                       const ConvOnednnOptions& opt = {});
  ~ConvOnednn();

  // dst = post_ops(conv(src) + bias), src/dst plain in params().src_layout / dst_layout. With a kSum post-op dst holds the summand
  // on entry. `weights` / `bias` are used only when they were not given at create().
  void run(const float* src, float* dst, const float* weights = nullptr, const float* bias = nullptr);

  const ConvParams& params() const { return p_; }
  // oneDNN's implementation name, e.g. "jit:avx512_core" or "gemm:jit".
  const std::string& impl_info() const { return impl_; }
  // Whether run() reorders src / dst between the plain layout and a blocked one.
  bool reorders_src() const { return src_reorder_ != nullptr; }
  bool reorders_dst() const { return dst_reorder_ != nullptr; }

 private:
  ConvOnednn() = default;
  Status init(const ConvParams& p, const float* weights, const float* bias, const ConvOnednnOptions& opt, bool blocked);

  ConvParams p_;
  bool transposed_ = false;
  std::string impl_;
  dnnl::primitive prim_;
  dnnl::memory::desc user_src_md_, user_dst_md_, user_wei_md_, src_md_, dst_md_, wei_md_, bias_md_;
  std::unique_ptr<dnnl::reorder> src_reorder_, dst_reorder_, dst_in_reorder_, wei_reorder_;
  void* packed_weights_ = nullptr;  // in wei_md_, when weights were given at create (or scratch for per-run packing)
  bool weights_constant_ = false;
  std::vector<float> bias_;
  bool bias_constant_ = false;
};

}  // namespace kaiwu::kernels::x86
