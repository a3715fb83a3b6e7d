#include "ops/binary_common.h"

#include <cstring>

#include "kernels/ref/binary.h"
#include "kernels/ref/cast.h"
#include "kernels/x86/binary.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {

namespace {

using kernels::BinaryKind;
namespace kr = kernels::ref;
namespace kx = kernels::x86;

bool is_numeric(DType t) { return dtype_is_float(t) || dtype_is_integer(t); }

// The type the kernels compute in: f16 goes through f32; Pow with mixed types goes through f64 (any float
// involved) or i64 (integers only), as numpy does before the result is cast back to the base type.
DType compute_type(BinaryKind k, DType a, DType b) {
  if (k == BinaryKind::kPow && a != b) {
    if (a == DType::kF32 && b == DType::kF16) return DType::kF32;
    return dtype_is_float(a) || dtype_is_float(b) ? DType::kF64 : DType::kI64;
  }
  return a == DType::kF16 ? DType::kF32 : a;
}

std::string shapes_text(const std::vector<Shape>& s) {
  std::string t;
  for (const auto& x : s) t += (t.empty() ? "" : " and ") + shape_to_string(x);
  return t;
}

Status broadcast_all(const std::vector<Shape>& shapes, Shape* out) {
  Shape acc = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i)
    if (!broadcast_shapes(acc, shapes[i], &acc))
      return invalid_argument("shapes " + shapes_text(shapes) + " do not broadcast");
  *out = acc;
  return Status::Ok();
}

// A fold of one binary function over N >= 1 inputs broadcast to one output:
// acc = op(in0, in1); acc = op(acc, in_i) for i >= 2 (acc is the output buffer, or a temporary when the
// computing type differs from the output type).
class ElementwiseKernel : public Kernel {
 public:
  ElementwiseKernel(BinaryKind k, std::vector<DType> in_dt, std::vector<Shape> in_shapes, DType compute, DType out_dt,
                    Shape out_shape, bool reference)
      : k_(k),
        in_dt_(std::move(in_dt)),
        in_shapes_(std::move(in_shapes)),
        compute_(compute),
        out_dt_(out_dt),
        out_shape_(std::move(out_shape)),
        ref_(reference) {
    acc_dt_ = kr::binary_is_comparison(k_) ? DType::kBool : compute_;
    for (size_t i = 1; i < in_shapes_.size(); ++i) {
      plans_.push_back(kx::make_broadcast_plan({i == 1 ? in_shapes_[0] : out_shape_, in_shapes_[i]}, out_shape_));
      if (!plans_.back().ok) ref_ = true;  // e.g. rank above the fast path's limit
    }
  }
  const char* impl_name() const override { return ref_ ? "ref" : "x86"; }

  Status run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const size_t n = in_shapes_.size();
    std::vector<Tensor> tmp(n);
    std::vector<const void*> ptr(n);
    for (size_t i = 0; i < n; ++i) {
      if (in_dt_[i] == compute_) {
        ptr[i] = in[i]->raw();
      } else {
        tmp[i] = Tensor::empty(compute_, in[i]->shape());
        kr::cast(in_dt_[i], in[i]->raw(), compute_, tmp[i].raw(), in[i]->numel());
        ptr[i] = tmp[i].raw();
      }
    }
    Tensor acc_t;
    void* acc = out[0]->raw();
    if (acc_dt_ != out_dt_) {
      acc_t = Tensor::empty(acc_dt_, out_shape_);
      acc = acc_t.raw();
    }
    if (n == 1) {
      std::memcpy(acc, ptr[0], static_cast<size_t>(shape_numel(out_shape_)) * dtype_size(acc_dt_));
    }
    for (size_t i = 1; i < n; ++i) {
      const void* a = i == 1 ? ptr[0] : acc;
      const Shape& as = i == 1 ? in_shapes_[0] : out_shape_;
      bool ok = ref_ ? kr::binary(k_, compute_, a, as, ptr[i], in_shapes_[i], acc, out_shape_)
                     : kx::binary(k_, compute_, a, ptr[i], acc, plans_[i - 1]);
      if (!ok) return internal_error(std::string(kr::binary_kind_name(k_)) + ": kernel failed");
    }
    if (acc != out[0]->raw()) kr::cast(acc_dt_, acc, out_dt_, out[0]->raw(), shape_numel(out_shape_));
    return Status::Ok();
  }

 private:
  BinaryKind k_;
  std::vector<DType> in_dt_;
  std::vector<Shape> in_shapes_;
  DType compute_, out_dt_, acc_dt_;
  Shape out_shape_;
  bool ref_;
  std::vector<kx::BroadcastPlan> plans_;
};

// Input shapes as the kernels see them (legacy broadcast applied) and the output shape.
Status binary_shapes(const ir::Node& node, int64_t opset, const Shape& a, const Shape& b, std::vector<Shape>* ins,
                     Shape* out) {
  Shape bb;
  KW_RETURN_IF_ERROR(legacy_broadcast_shape(node, opset, a, b, &bb));
  *ins = {a, bb};
  return broadcast_all(*ins, out).with_context(node.describe());
}

Status check_types(const ir::Node& node, BinaryKind k, DType a, DType b) {
  if (k == BinaryKind::kPow) {
    if (!is_numeric(a) || !is_numeric(b))
      return unsupported(node.describe() + ": Pow of " + dtype_name(a) + " by " + dtype_name(b) + " is not supported");
  } else if (a != b) {
    return invalid_argument(node.describe() + ": inputs have different dtypes (" + dtype_name(a) + ", " +
                            dtype_name(b) + ")");
  }
  DType c = compute_type(k, a, b);
  if (!kr::binary_supports(k, c))
    return unsupported(node.describe() + ": dtype " + dtype_name(a) + " is not supported");
  return Status::Ok();
}

// Slope shape as the kernels see it: before opset 7 a 1-D slope of size C (> 1) applies along dim 1.
Shape prelu_slope_shape(int64_t opset, const Shape& x, const Shape& s) {
  if (opset < 7 && s.size() == 1 && s[0] > 1 && x.size() >= 2 && x[1] == s[0]) {
    Shape r(x.size() - 1, 1);
    r[0] = s[0];
    return r;
  }
  return s;
}

}  // namespace

Status legacy_broadcast_shape(const ir::Node& node, int64_t opset, const Shape& a, const Shape& b, Shape* out) {
  *out = b;
  if (opset >= 7 || node.attr_int("broadcast", 0) == 0 || !node.has_attr("axis")) return Status::Ok();
  int64_t axis = node.attr_int("axis", 0);
  const int64_t ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
  if (axis < 0) axis += ra;
  if (axis < 0 || axis + rb > ra)
    return invalid_argument(node.describe() + ": broadcast axis " + std::to_string(node.attr_int("axis", 0)) +
                            " does not fit shapes " + shape_to_string(a) + " and " + shape_to_string(b));
  out->resize(static_cast<size_t>(ra - axis), 1);
  return Status::Ok();
}

Status infer_binary(InferContext& ctx, BinaryKind k) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("two inputs are required");
  const TensorDesc &a = ctx.input(0), &b = ctx.input(1);
  KW_RETURN_IF_ERROR(check_types(ctx.node(), k, a.dtype, b.dtype));
  std::vector<Shape> ins;
  Shape out;
  KW_RETURN_IF_ERROR(binary_shapes(ctx.node(), ctx.opset(), a.shape, b.shape, &ins, &out));
  ctx.outputs[0] = {kr::binary_is_comparison(k) ? DType::kBool : a.dtype, out};
  return Status::Ok();
}

Status create_binary(const KernelInit& init, BinaryKind k, std::unique_ptr<Kernel>* out) {
  const TensorDesc &a = init.inputs[0], &b = init.inputs[1];
  KW_RETURN_IF_ERROR(check_types(init.node, k, a.dtype, b.dtype));
  std::vector<Shape> ins;
  Shape os;
  KW_RETURN_IF_ERROR(binary_shapes(init.node, init.opset, a.shape, b.shape, &ins, &os));
  DType out_dt = kr::binary_is_comparison(k) ? DType::kBool : a.dtype;
  *out = std::make_unique<ElementwiseKernel>(k, std::vector<DType>{a.dtype, b.dtype}, ins,
                                             compute_type(k, a.dtype, b.dtype), out_dt, os, init.reference_only);
  return Status::Ok();
}

Status infer_variadic(InferContext& ctx, BinaryKind k) {
  if (ctx.num_inputs() == 0) return ctx.fail("at least one input is required");
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.fail("inputs cannot be omitted");
    KW_RETURN_IF_ERROR(check_types(ctx.node(), k, ctx.input(0).dtype, ctx.input(i).dtype));
    shapes.push_back(ctx.input(i).shape);
  }
  Shape out;
  KW_RETURN_IF_ERROR(broadcast_all(shapes, &out).with_context(ctx.node().describe()));
  ctx.outputs[0] = {ctx.input(0).dtype, out};
  return Status::Ok();
}

Status create_variadic(const KernelInit& init, BinaryKind k, std::unique_ptr<Kernel>* out) {
  std::vector<Shape> shapes;
  std::vector<DType> dts;
  for (const auto& d : init.inputs) {
    shapes.push_back(d.shape);
    dts.push_back(d.dtype);
  }
  if (shapes.empty()) return init.fail("at least one input is required");
  KW_RETURN_IF_ERROR(check_types(init.node, k, dts[0], dts[0]));
  Shape os;
  KW_RETURN_IF_ERROR(broadcast_all(shapes, &os).with_context(init.node.describe()));
  *out = std::make_unique<ElementwiseKernel>(k, dts, shapes, compute_type(k, dts[0], dts[0]), dts[0], os,
                                             init.reference_only);
  return Status::Ok();
}

Status infer_prelu(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("inputs X and slope are required");
  const TensorDesc &x = ctx.input(0), &s = ctx.input(1);
  KW_RETURN_IF_ERROR(check_types(ctx.node(), BinaryKind::kPRelu, x.dtype, s.dtype));
  Shape out;
  if (!broadcast_shapes(x.shape, prelu_slope_shape(ctx.opset(), x.shape, s.shape), &out) || out != x.shape)
    return ctx.fail("slope " + shape_to_string(s.shape) + " does not broadcast to X " + shape_to_string(x.shape));
  ctx.outputs[0] = x;
  return Status::Ok();
}

Status create_prelu(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  const TensorDesc &x = init.inputs[0], &s = init.inputs[1];
  KW_RETURN_IF_ERROR(check_types(init.node, BinaryKind::kPRelu, x.dtype, s.dtype));
  std::vector<Shape> ins = {x.shape, prelu_slope_shape(init.opset, x.shape, s.shape)};
  *out = std::make_unique<ElementwiseKernel>(BinaryKind::kPRelu, std::vector<DType>{x.dtype, s.dtype}, ins,
                                             compute_type(BinaryKind::kPRelu, x.dtype, x.dtype), x.dtype, x.shape,
                                             init.reference_only);
  return Status::Ok();
}

Status infer_where(InferContext& ctx) {
  for (size_t i = 0; i < 3; ++i)
    if (!ctx.has_input(i)) return ctx.fail("inputs condition, X and Y are required");
  if (ctx.input(0).dtype != DType::kBool) return ctx.fail("condition must be bool");
  if (ctx.input(1).dtype != ctx.input(2).dtype) return ctx.fail("X and Y have different dtypes");
  Shape out;
  KW_RETURN_IF_ERROR(broadcast_all({ctx.input(0).shape, ctx.input(1).shape, ctx.input(2).shape}, &out)
                         .with_context(ctx.node().describe()));
  ctx.outputs[0] = {ctx.input(1).dtype, out};
  return Status::Ok();
}

Status create_where(const KernelInit& init, std::unique_ptr<Kernel>* out) {
  std::vector<Shape> shapes = {init.inputs[0].shape, init.inputs[1].shape, init.inputs[2].shape};
  const Shape os = init.outputs[0].shape;
  const size_t es = dtype_size(init.inputs[1].dtype);
  if (es == 0) return init.fail("unsupported dtype");
  if (init.reference_only) {
    *out = make_kernel([shapes, os, es](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
      kr::where(es, in[0]->data<uint8_t>(), shapes[0], in[1]->raw(), shapes[1], in[2]->raw(), shapes[2], o[0]->raw(),
                os);
      return Status::Ok();
    });
    return Status::Ok();
  }
  kx::BroadcastPlan plan = kx::make_broadcast_plan(shapes, os);
  if (!plan.ok) return init.fail("shapes do not broadcast");
  *out = make_kernel(
      [plan, es](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        kx::where(es, in[0]->data<uint8_t>(), in[1]->raw(), in[2]->raw(), o[0]->raw(), plan);
        return Status::Ok();
      },
      "x86");
  return Status::Ok();
}

}  // namespace kaiwu::ops
