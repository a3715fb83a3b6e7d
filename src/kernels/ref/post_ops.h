// Shared vocabulary of the conv/matmul kernels: activation layouts and fusable post-ops, with their scalar reference.
#pragma once
#include <cmath>
#include <vector>

namespace kaiwu::kernels {

// Layout of an activation tensor: channels first (NCW/NCHW/NCDHW, ONNX's) or channels last (NWC/NHWC/NDHWC).
enum class ActLayout { kNCHW, kNHWC };

// An operation applied to the kernel's result, in list order (oneDNN post-op semantics):
//   kRelu      y = x > 0 ? x : alpha * x          (alpha = 0: ReLU; LeakyRelu slope otherwise)
//   kClip      y = min(max(x, alpha), beta)       (Clip, Relu6)
//   kSigmoid   y = 1 / (1 + exp(-x))
//   kTanh      y = tanh(x)
//   kSwish     y = x * sigmoid(alpha * x)         (SiLU with alpha = 1)
//   kHardSwish y = x * min(max(x + 3, 0), 6) / 6
//   kLinear    y = alpha * x + beta               (HardSigmoid = kLinear(a, b) then kClip(0, 1))
//   kElu       y = x > 0 ? x : alpha * (exp(x) - 1)
//   kGeluErf   y = 0.5 * x * (1 + erf(x / sqrt(2)))
//   kGeluTanh  y = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
//   kSum       y = x + alpha * previous_dst       (residual add: dst holds the summand before the kernel runs)
enum class PostOpKind { kRelu, kClip, kSigmoid, kTanh, kSwish, kHardSwish, kLinear, kElu, kGeluErf, kGeluTanh, kSum };

struct PostOp {
  PostOpKind kind = PostOpKind::kRelu;
  float alpha = 0.f;
  float beta = 0.f;
  static PostOp relu(float slope = 0.f) { return {PostOpKind::kRelu, slope, 0.f}; }
  static PostOp clip(float lo, float hi) { return {PostOpKind::kClip, lo, hi}; }
  static PostOp sum(float scale = 1.f) { return {PostOpKind::kSum, scale, 0.f}; }
  static PostOp of(PostOpKind k, float a = 0.f, float b = 0.f) { return {k, a, b}; }
};

namespace ref {

// One elementwise post-op (not kSum) on a scalar, computed in double as the oracle.
inline float apply_eltwise(const PostOp& op, float xf) {
  double x = xf, a = op.alpha, b = op.beta;
  switch (op.kind) {
    case PostOpKind::kRelu: return static_cast<float>(x > 0 ? x : a * x);
    case PostOpKind::kClip: return static_cast<float>(x < a ? a : (x > b ? b : x));
    case PostOpKind::kSigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    case PostOpKind::kTanh: return static_cast<float>(std::tanh(x));
    case PostOpKind::kSwish: return static_cast<float>(x / (1.0 + std::exp(-a * x)));
    case PostOpKind::kHardSwish: return static_cast<float>(x * std::fmin(std::fmax(x + 3.0, 0.0), 6.0) / 6.0);
    case PostOpKind::kLinear: return static_cast<float>(a * x + b);
    case PostOpKind::kElu: return static_cast<float>(x > 0 ? x : a * (std::exp(x) - 1.0));
    case PostOpKind::kGeluErf: return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    case PostOpKind::kGeluTanh:
      return static_cast<float>(0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
    case PostOpKind::kSum: return xf;
  }
  return xf;
}

// Applies the post-op chain to a kernel result `x`; `prev` is the destination's value before the kernel ran (for kSum).
inline float apply_post_ops(const std::vector<PostOp>& ops, float x, float prev) {
  for (const PostOp& op : ops) x = op.kind == PostOpKind::kSum ? x + op.alpha * prev : apply_eltwise(op, x);
  return x;
}

}  // namespace ref
}  // namespace kaiwu::kernels
