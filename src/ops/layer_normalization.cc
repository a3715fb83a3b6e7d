// LayerNormalization (ONNX opset 17): normalizes over the axes from `axis` to the end; Scale and optional B
// broadcast over the normalized shape; optional Mean and InvStdDev outputs (shape X.shape[:axis] + 1s).
#include "core/parallel.h"
#include "kernels/ref/norm.h"
#include "ops/op_def.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {
namespace {

struct LnGeom {
  int64_t axis = 0, rows = 1, cols = 1;
  Shape norm_shape;
};

Status ln_geometry(const ir::Node& node, const Shape& x, LnGeom* g) {
  int64_t axis = 0;
  if (!normalize_axis(node.attr_int("axis", -1), static_cast<int64_t>(x.size()), &axis))
    return invalid_argument(node.describe() + ": axis " + std::to_string(node.attr_int("axis", -1)) +
                            " is out of range for X " + shape_to_string(x));
  g->axis = axis;
  g->rows = g->cols = 1;
  for (size_t i = 0; i < x.size(); ++i) (static_cast<int64_t>(i) < axis ? g->rows : g->cols) *= x[i];
  g->norm_shape.assign(x.begin() + axis, x.end());
  return Status::Ok();
}

// True if `s` broadcasts (unidirectionally) to `to`.
bool broadcasts_to(const Shape& s, const Shape& to) {
  if (s.size() > to.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t d = s[s.size() - 1 - i], t = to[to.size() - 1 - i];
    if (d != 1 && d != t) return false;
  }
  return true;
}

// `v` (shape s) expanded to the full normalized shape.
std::vector<float> expand(const float* v, const Shape& s, const Shape& to) {
  std::vector<int64_t> st = broadcast_strides(s, to);
  int64_t n = shape_numel(to);
  std::vector<float> out(n);
  std::vector<int64_t> idx(to.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < to.size(); ++d) off += idx[d] * st[d];
    out[i] = v[off];
    for (size_t d = to.size(); d-- > 0;) {
      if (++idx[d] < to[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

Status infer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs inputs X and Scale");
  const TensorDesc& x = ctx.input(0);
  if (!dtype_is_float(x.dtype)) return ctx.fail(std::string("X must be a float tensor, got ") + dtype_name(x.dtype));
  LnGeom g;
  KW_RETURN_IF_ERROR(ln_geometry(ctx.node(), x.shape, &g));
  for (size_t i = 1; i < 3; ++i)
    if (ctx.has_input(i) && !broadcasts_to(ctx.input(i).shape, g.norm_shape))
      return ctx.fail(std::string(i == 1 ? "Scale " : "B ") + shape_to_string(ctx.input(i).shape) +
                      " does not broadcast to the normalized shape " + shape_to_string(g.norm_shape));
  ctx.outputs[0] = x;
  Shape stat(x.shape.begin(), x.shape.begin() + g.axis);
  stat.resize(x.shape.size(), 1);
  const DType stash = ctx.node().attr_int("stash_type", 1) == 1 ? DType::kF32 : x.dtype;
  for (size_t o = 1; o < ctx.outputs.size() && o < 3; ++o) ctx.outputs[o] = {stash, stat};
  return Status::Ok();
}

Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  for (size_t i = 0; i < 3; ++i)
    if (init.has_input(i) && init.inputs[i].dtype != DType::kF32)
      return unsupported(init.node.describe() + ": dtype " + dtype_name(init.inputs[i].dtype) + " is not supported");
  LnGeom g;
  KW_RETURN_IF_ERROR(ln_geometry(init.node, init.inputs[0].shape, &g));
  const float eps = init.node.attr_float("epsilon", 1e-5f);
  const bool has_b = init.has_input(2);
  const Shape s_shape = init.inputs[1].shape, b_shape = has_b ? init.inputs[2].shape : Shape{};
  const bool s_full = shape_numel(s_shape) == g.cols, b_full = !has_b || shape_numel(b_shape) == g.cols;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.cols));
  *out = make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    std::vector<float> se, be;
    const float* scale = in[1]->data<float>();
    const float* bias = has_b ? in[2]->data<float>() : nullptr;
    if (!s_full) {
      se = expand(scale, s_shape, g.norm_shape);
      scale = se.data();
    }
    if (!b_full) {
      be = expand(bias, b_shape, g.norm_shape);
      bias = be.data();
    }
    float* mean = o.size() > 1 ? o[1]->data<float>() : nullptr;
    float* inv = o.size() > 2 ? o[2]->data<float>() : nullptr;
    parallel_for(g.rows, grain, [&](int64_t b, int64_t e) {
      kernels::ref::layer_norm_f32(in[0]->data<float>(), scale, bias, eps, g.cols, b, e, o[0]->data<float>(), mean,
                                   inv);
    });
    return Status::Ok();
  });
  return Status::Ok();
}

}  // namespace
extern const OpDef kOp_LayerNormalization = {"LayerNormalization", "", infer, create};
}  // namespace kaiwu::ops
