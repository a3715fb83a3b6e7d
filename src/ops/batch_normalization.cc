// BatchNormalization (ONNX opsets 7..15): inference y = (x - mean) / sqrt(var + eps) * scale + bias, folded into
// y = x * a[c] + b[c] when the parameters are constant. Opset 14+ training_mode=1 normalizes with the batch
// statistics and returns the updated running mean/var; the training outputs of opsets < 14 are not supported.
#include <cmath>

#include "core/parallel.h"
#include "kernels/ref/norm.h"
#include "ops/op_def.h"

namespace kaiwu::ops {
namespace {

struct BnGeom {
  int64_t batch = 0, channels = 0, inner = 1;
};

// X viewed as [N, C, inner]; opset < 9 spatial=0 uses per-activation statistics ([N, C*inner, 1]).
Status bn_geometry(const ir::Node& node, int64_t opset, const Shape& x, const std::vector<TensorDesc>& params,
                   BnGeom* g) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 2) return fail("X must have rank >= 2, got " + shape_to_string(x));
  g->batch = x[0];
  g->channels = x[1];
  g->inner = 1;
  for (size_t i = 2; i < x.size(); ++i) g->inner *= x[i];
  if (opset < 9 && node.attr_int("spatial", 1) == 0) {
    g->channels *= g->inner;
    g->inner = 1;
  }
  static const char* names[] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < params.size(); ++i)
    if (shape_numel(params[i].shape) != g->channels)
      return fail(std::string(names[i]) + " " + shape_to_string(params[i].shape) + " must have " +
                  std::to_string(g->channels) + " elements");
  return Status::Ok();
}

bool training(const ir::Node& node, int64_t opset) { return opset >= 14 && node.attr_int("training_mode", 0) != 0; }

Status infer(InferContext& ctx) {
  for (size_t i = 0; i < 5; ++i)
    if (!ctx.has_input(i)) return ctx.fail("needs 5 inputs (X, scale, B, input_mean, input_var)");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  BnGeom g;
  KW_RETURN_IF_ERROR(
      bn_geometry(ctx.node(), ctx.opset(), x.shape, {ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4)}, &g));
  ctx.outputs[0] = x;
  const auto& outs = ctx.node().outputs;
  const bool train = training(ctx.node(), ctx.opset());
  for (size_t o = 1; o < outs.size(); ++o) {
    if (train && o <= 2) {
      ctx.outputs[o] = ctx.input(3);  // running mean / var
      continue;
    }
    if (outs[o].empty()) continue;
    if (train) return ctx.fail("BatchNormalization has at most 3 outputs in opset >= 14");
    return ctx.fail("output " + std::to_string(o) + " ('" + outs[o] +
                    "') is a training output; only inference (output 0) is supported" +
                    (ctx.opset() < 14 ? " for opset < 14" : " without training_mode=1"));
  }
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  for (size_t i = 0; i < 5; ++i)
    if (init.inputs[i].dtype != DType::kF32)
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[i].dtype) + " is not supported");
  BnGeom g;
  KW_RETURN_IF_ERROR(bn_geometry(init.node, init.opset, init.inputs[0].shape,
                                 {init.inputs[1], init.inputs[2], init.inputs[3], init.inputs[4]}, &g));
  const float eps = init.node.attr_float("epsilon", 1e-5f);
  const int64_t planes = g.batch * g.channels;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.inner));

  if (training(init.node, init.opset)) {
    const float momentum = init.node.attr_float("momentum", 0.9f);
    *out = make_kernel([g, eps, momentum, planes](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
      const float* x = in[0]->data<float>();
      std::vector<float> mean(g.channels), var(g.channels), ones(g.channels, 1.f);
      kernels::ref::channel_moments_f32(x, g.batch, g.channels, g.inner, 0, g.channels, mean.data(), var.data());
      kernels::ref::batch_norm_f32(x, in[1]->data<float>(), in[2]->data<float>(), mean.data(), var.data(), eps,
                                   g.channels, g.inner, 0, planes, o[0]->data<float>());
      for (int k = 1; k <= 2 && k < static_cast<int>(o.size()); ++k) {
        const float* running = in[2 + k]->data<float>();
        const float* batch_stat = k == 1 ? mean.data() : var.data();
        float* dst = o[k]->data<float>();
        for (int64_t c = 0; c < g.channels; ++c) dst[c] = running[c] * momentum + batch_stat[c] * (1.f - momentum);
      }
      return Status::Ok();
    });
    return Status::Ok();
  }

  if (init.reference_only) {
    *out = make_kernel([g, eps, planes, grain](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
      parallel_for(planes, grain, [&](int64_t b, int64_t e) {
        kernels::ref::batch_norm_f32(in[0]->data<float>(), in[1]->data<float>(), in[2]->data<float>(),
                                     in[3]->data<float>(), in[4]->data<float>(), eps, g.channels, g.inner, b, e,
                                     o[0]->data<float>());
      });
      return Status::Ok();
    });
    return Status::Ok();
  }
  // Fast path: fold into a per-channel affine map (now if the parameters are constant, else per run).
  bool all_const = true;
  for (size_t i = 1; i < 5; ++i) all_const = all_const && i < init.values.size() && init.values[i];
  std::vector<float> a, b;
  if (all_const) {
    a.resize(g.channels);
    b.resize(g.channels);
    kernels::ref::batch_norm_fold_f32(init.values[1]->data<float>(), init.values[2]->data<float>(),
                                      init.values[3]->data<float>(), init.values[4]->data<float>(), eps, g.channels,
                                      a.data(), b.data());
  }
  *out = make_kernel(
      [g, eps, planes, grain, a, b](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        std::vector<float> ra, rb;
        const float* pa = a.data();
        const float* pb = b.data();
        if (a.empty()) {
          ra.resize(g.channels);
          rb.resize(g.channels);
          kernels::ref::batch_norm_fold_f32(in[1]->data<float>(), in[2]->data<float>(), in[3]->data<float>(),
                                            in[4]->data<float>(), eps, g.channels, ra.data(), rb.data());
          pa = ra.data();
          pb = rb.data();
        }
        parallel_for(planes, grain, [&](int64_t s, int64_t e) {
          kernels::ref::channel_affine_f32(in[0]->data<float>(), pa, pb, g.channels, g.inner, s, e,
                                           o[0]->data<float>());
        });
        return Status::Ok();
      },
      "affine");
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_BatchNormalization = {"BatchNormalization", "", infer, create};
}  // namespace kaiwu::ops
