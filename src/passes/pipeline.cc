// Pass pipelines: the standard (ONNX-preserving) one and the runtime's CPU one.
#include "passes/passes.h"

namespace kaiwu::passes {

Status optimize_standard(ir::Model& m) {
  bool changed = false;
  KW_RETURN_IF_ERROR(m.graph.topo_sort());
  KW_RETURN_IF_ERROR(lift_constants(m, &changed));
  KW_RETURN_IF_ERROR(remove_identities(m, &changed));
  KW_RETURN_IF_ERROR(fold_batchnorm_into_conv(m, &changed));
  KW_RETURN_IF_ERROR(fold_affine_into_conv(m, &changed));
  if (changed) KW_RETURN_IF_ERROR(fold_batchnorm_into_conv(m, &changed));  // Conv -> Add(bias) -> BN (paddle)
  return m.graph.verify();
}

Status optimize_for_cpu(ir::Model& m, const CpuOptions& opt) {
  KW_RETURN_IF_ERROR(optimize_standard(m));
  bool changed = false;
  if (opt.fuse) {
    KW_RETURN_IF_ERROR(deconv_to_conv_depth_to_space(m, &changed));
    KW_RETURN_IF_ERROR(fuse_hardswish(m, &changed));
    KW_RETURN_IF_ERROR(fuse_conv_post_ops(m, &changed));
  }
  if (opt.nhwc) {
    KW_RETURN_IF_ERROR(convert_to_nhwc(m, &changed));
    if (changed) KW_RETURN_IF_ERROR(optimize_transposes(m, &changed));
  }
  if (opt.fuse) KW_RETURN_IF_ERROR(fuse_quantized_clamp(m, &changed));
  if (m.opsets.count("kaiwu") == 0) m.opsets["kaiwu"] = 1;
  return m.graph.verify();
}

}  // namespace kaiwu::passes
