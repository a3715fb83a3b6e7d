// kaiwu.Requantize (X, x_scale, x_zero_point, y_scale, y_zero_point): y = sat(rne(f32(x - zx) * (x_scale /
// y_scale)) + zy); any of int8 / uint8 / int16 in and out (Y has y_zero_point's dtype).
#include "core/parallel.h"
#include "kernels/x86/qelementwise.h"
#include "ops/kw_qcommon.h"

namespace kaiwu::ops {
namespace {

kernels::ref::RequantizeParams params(const std::vector<const Tensor*>& v) {
  kernels::ref::RequantizeParams p;
  p.zx = scalar_zero_point(v[2]);
  p.zy = scalar_zero_point(v[4]);
  p.m = scalar_scale(*v[1]) / scalar_scale(*v[3]);
  return p;
}

Status infer(InferContext& ctx) {
  const std::vector<TensorDesc>& in = ctx.inputs();
  std::string why = check_requant_inputs(in);
  if (!why.empty()) return ctx.fail(why);
  ctx.outputs[0] = {in[4].dtype, in[0].shape};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  std::string why = check_requant_inputs(init.inputs);
  if (!why.empty()) return init.fail(why);
  const bool constant = init.values[1] && init.values[2] && init.values[3] && init.values[4];
  kernels::ref::RequantizeParams fixed;
  if (constant) fixed = params(init.values);
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype;
  const bool ref = init.reference_only;
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const kernels::ref::RequantizeParams p = constant ? fixed : params(in);
        const void* x = in[0]->raw();
        void* y = o[0]->raw();
        parallel_for(in[0]->numel(), 32768, [&](int64_t b, int64_t e) {
          if (ref) kernels::ref::requantize(xt, x, yt, y, p, b, e);
          else kernels::x86::requantize(xt, x, yt, y, p, b, e);
        });
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_KwRequantize = {"Requantize", "kaiwu", infer, create};
}  // namespace kaiwu::ops
