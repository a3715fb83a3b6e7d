// oneDNN plumbing shared by the x86 conv/matmul kernels: the CPU engine, a per-thread stream, post-op translation,
// and a per-thread scratch buffer for activations reordered to/from blocked formats.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kaiwu/status.h"
#include "kernels/ref/post_ops.h"

namespace kaiwu::kernels::x86 {

// The process-wide CPU engine.
dnnl::engine& onednn_engine();
// A stream on that engine for the calling thread.
dnnl::stream& onednn_stream();
// oneDNN post-ops for our list (eltwise and sum); false in *ok if a kind has no oneDNN equivalent.
dnnl::post_ops onednn_post_ops(const std::vector<PostOp>& ops, bool* ok);
// A Status for a caught oneDNN error, prefixed by `what`.
Status onednn_status(const std::string& what, const dnnl::error& e);
// Per-thread scratch of at least `bytes` bytes, 64-byte aligned; valid until the next call on this thread.
void* onednn_thread_scratch(size_t bytes);
// The memory format tag of a plain activation of `rank` dims in `layout`, e.g. nchw / nhwc.
dnnl::memory::format_tag act_tag(int rank, ActLayout layout);
// Plain row-major tag for `rank` dims (a, ab, abc, ...).
dnnl::memory::format_tag plain_tag(int rank);
// The implementation name of a primitive descriptor ("jit:avx512_core", "gemm:jit", ...).
std::string impl_name_of(const dnnl::primitive_desc_base& pd);

}  // namespace kaiwu::kernels::x86
