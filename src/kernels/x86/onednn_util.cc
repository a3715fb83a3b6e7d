#include "kernels/x86/onednn_util.h"

#include <cstdlib>
#include <memory>

namespace kaiwu::kernels::x86 {

using tag = dnnl::memory::format_tag;

dnnl::engine& onednn_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& onednn_stream() {
  thread_local dnnl::stream s(onednn_engine());
  return s;
}

dnnl::post_ops onednn_post_ops(const std::vector<PostOp>& ops, bool* ok) {
  dnnl::post_ops po;
  *ok = true;
  for (const PostOp& op : ops) {
    using A = dnnl::algorithm;
    float a = op.alpha, b = op.beta;
    A alg = A::eltwise_relu;
    switch (op.kind) {
      case PostOpKind::kSum: po.append_sum(op.alpha); continue;
      case PostOpKind::kRelu: alg = A::eltwise_relu; break;
      case PostOpKind::kClip: alg = A::eltwise_clip; break;
      case PostOpKind::kSigmoid: alg = A::eltwise_logistic; break;
      case PostOpKind::kTanh: alg = A::eltwise_tanh; break;
      case PostOpKind::kSwish: alg = A::eltwise_swish; break;
      case PostOpKind::kHardSwish: alg = A::eltwise_hardswish; break;
      case PostOpKind::kLinear: alg = A::eltwise_linear; break;
      case PostOpKind::kElu: alg = A::eltwise_elu; break;
      case PostOpKind::kGeluErf: alg = A::eltwise_gelu_erf; break;
      case PostOpKind::kGeluTanh: alg = A::eltwise_gelu_tanh; break;
      default: *ok = false; continue;
    }
    po.append_eltwise(1.f, alg, a, b);
  }
  return po;
}

Status onednn_status(const std::string& what, const dnnl::error& e) {
  return unsupported(what + ": oneDNN: " + e.what());
}

void* onednn_thread_scratch(size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t size = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf buf;
  if (bytes > buf.size) {
    std::free(buf.p);
    size_t sz = (bytes + 4095) / 4096 * 4096;
    buf.p = std::aligned_alloc(64, sz);
    buf.size = buf.p ? sz : 0;
  }
  return buf.p;
}

tag act_tag(int rank, ActLayout layout) {
  bool cl = layout == ActLayout::kNHWC;
  switch (rank) {
    case 3: return cl ? tag::nwc : tag::ncw;
    case 4: return cl ? tag::nhwc : tag::nchw;
    case 5: return cl ? tag::ndhwc : tag::ncdhw;
    default: return plain_tag(rank);
  }
}

tag plain_tag(int rank) {
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    case 7: return tag::abcdefg;
    case 8: return tag::abcdefgh;
    case 9: return tag::abcdefghi;
    case 10: return tag::abcdefghij;
    case 11: return tag::abcdefghijk;
    case 12: return tag::abcdefghijkl;
    default: return tag::undef;
  }
}

std::string impl_name_of(const dnnl::primitive_desc_base& pd) {
  const char* s = pd.impl_info_str();
  return s ? s : "?";
}

}  // namespace kaiwu::kernels::x86
