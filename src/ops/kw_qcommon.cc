#include "ops/kw_qcommon.h"

#include "core/parallel.h"
#include "kernels/x86/qelementwise.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {

namespace {
bool one_element(const Shape& s) { return s.size() <= 1 && shape_numel(s) == 1; }
}  // namespace

std::string check_scale_desc(const TensorDesc& d, const char* what) {
  if (d.dtype != DType::kF32) return std::string(what) + " must be f32, got " + dtype_name(d.dtype);
  if (!one_element(d.shape)) return std::string(what) + " must be a scalar, got shape " + shape_to_string(d.shape);
  return "";
}

std::string check_zero_point_desc(const TensorDesc& d, DType want, const char* what) {
  if (d.dtype != want)
    return std::string(what) + " must be " + dtype_name(want) + ", got " + dtype_name(d.dtype);
  if (!one_element(d.shape)) return std::string(what) + " must be a scalar, got shape " + shape_to_string(d.shape);
  return "";
}

std::string check_data_desc(const TensorDesc& d, const char* what) {
  if (!is_fixed_point_type(d.dtype))
    return std::string(what) + " must be int8, uint8 or int16, got " + dtype_name(d.dtype);
  return "";
}

float scalar_scale(const Tensor& t) { return t.data<float>()[0]; }
int32_t scalar_zero_point(const Tensor* t) { return t ? static_cast<int32_t>(t->get_i64(0)) : 0; }

std::string check_requant_inputs(const std::vector<TensorDesc>& in) {
  if (in.size() != 5)
    return "expects 5 inputs (X, x_scale, x_zero_point, y_scale, y_zero_point), got " + std::to_string(in.size());
  static const char* names[5] = {"X", "x_scale", "x_zero_point", "y_scale", "y_zero_point"};
  for (size_t i = 0; i < 5; ++i)
    if (in[i].dtype == DType::kUndefined) return std::string("input ") + names[i] + " is missing";
  std::string why = check_data_desc(in[0], "X");
  if (why.empty()) why = check_scale_desc(in[1], "x_scale");
  if (why.empty()) why = check_zero_point_desc(in[2], in[0].dtype, "x_zero_point");
  if (why.empty()) why = check_scale_desc(in[3], "y_scale");
  if (why.empty()) why = check_data_desc(in[4], "y_zero_point");
  if (why.empty()) why = check_zero_point_desc(in[4], in[4].dtype, "y_zero_point");
  return why;
}

kernels::QPoolQuant pool_quant_from(const Tensor& xs, const Tensor& xz, const Tensor& ys, const Tensor& yz) {
  kernels::QPoolQuant q;
  q.x_scale = scalar_scale(xs);
  q.zx = scalar_zero_point(&xz);
  q.y_scale = scalar_scale(ys);
  q.zy = scalar_zero_point(&yz);
  return q;
}

// ---- kaiwu.QAdd / kaiwu.QMul: (A, A_scale, A_zero_point, B, B_scale, B_zero_point, Y_scale, Y_zero_point) ----

namespace {

std::string check_qbinary(const std::vector<TensorDesc>& in) {
  if (in.size() != 8)
    return "expects 8 inputs (A, A_scale, A_zero_point, B, B_scale, B_zero_point, Y_scale, Y_zero_point), got " +
           std::to_string(in.size());
  static const char* names[8] = {"A", "A_scale", "A_zero_point", "B", "B_scale", "B_zero_point", "Y_scale",
                                 "Y_zero_point"};
  for (size_t i : {0, 1, 3, 4, 6, 7})
    if (in[i].dtype == DType::kUndefined) return std::string("input ") + names[i] + " is missing";
  std::string why = check_data_desc(in[0], "A");
  if (why.empty() && in[3].dtype != in[0].dtype)
    why = std::string("A and B must have the same dtype, got ") + dtype_name(in[0].dtype) + " and " +
          dtype_name(in[3].dtype);
  if (why.empty()) why = check_scale_desc(in[1], "A_scale");
  if (why.empty()) why = check_scale_desc(in[4], "B_scale");
  if (why.empty()) why = check_scale_desc(in[6], "Y_scale");
  if (why.empty() && in[2].dtype != DType::kUndefined) why = check_zero_point_desc(in[2], in[0].dtype, "A_zero_point");
  if (why.empty() && in[5].dtype != DType::kUndefined) why = check_zero_point_desc(in[5], in[0].dtype, "B_zero_point");
  if (why.empty()) why = check_data_desc(in[7], "Y_zero_point");
  if (why.empty()) why = check_zero_point_desc(in[7], in[7].dtype, "Y_zero_point");
  return why;
}

// The params from the scale / zero-point inputs (values in input order; null for an omitted zero point).
kernels::ref::QBinaryParams qbinary_params(bool mul, const std::vector<const Tensor*>& v) {
  kernels::ref::QBinaryParams p;
  p.mul = mul;
  const float as = scalar_scale(*v[1]), bs = scalar_scale(*v[4]), ys = scalar_scale(*v[6]);
  p.za = scalar_zero_point(v[2]);
  p.zb = scalar_zero_point(v[5]);
  p.zy = scalar_zero_point(v[7]);
  p.ma = as / ys;
  p.mb = bs / ys;
  const float ab = as * bs;
  p.m = ab / ys;
  return p;
}

}  // namespace

Status infer_qbinary(InferContext& ctx, bool mul) {
  const std::vector<TensorDesc>& in = ctx.inputs();
  std::string why = check_qbinary(in);
  if (!why.empty()) return ctx.fail(why);
  Shape out;
  if (!broadcast_shapes(in[0].shape, in[3].shape, &out))
    return ctx.fail("A " + shape_to_string(in[0].shape) + " and B " + shape_to_string(in[3].shape) +
                    " do not broadcast");
  ctx.outputs[0] = {in[7].dtype, out};
  return Status::Ok();
}

Status create_qbinary(const KernelInit& init, bool mul, std::unique_ptr<Kernel>* out) {
  std::string why = check_qbinary(init.inputs);
  if (!why.empty()) return init.fail(why);
  const Shape& ys = init.outputs[0].shape;
  const kernels::BroadcastPlan plan = kernels::make_broadcast_plan(
      ys, broadcast_strides(init.inputs[0].shape, ys), broadcast_strides(init.inputs[3].shape, ys));
  bool constant = true;
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (init.has_input(i) && !init.values[i]) constant = false;
  kernels::ref::QBinaryParams fixed;
  if (constant) fixed = qbinary_params(mul, init.values);
  const DType xt = init.inputs[0].dtype, yt = init.outputs[0].dtype;
  const bool ref = init.reference_only;
  *out = make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const kernels::ref::QBinaryParams p = constant ? fixed : qbinary_params(mul, in);
        const void* a = in[0]->raw();
        const void* b = in[3]->raw();
        void* y = o[0]->raw();
        parallel_for(plan.numel, 32768, [&](int64_t lo, int64_t hi) {
          if (ref) kernels::ref::qbinary(xt, a, b, yt, y, plan, p, lo, hi);
          else kernels::x86::qbinary(xt, a, b, yt, y, plan, p, lo, hi);
        });
        return Status::Ok();
      },
      ref ? "ref" : "x86");
  return Status::Ok();
}

}  // namespace kaiwu::ops
