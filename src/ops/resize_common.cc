#include "ops/resize_common.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "kernels/x86/resize.h"
#include "ops/shape_util.h"

namespace kaiwu::ops {

using kernels::ResizeCoord;
using kernels::ResizeMode;
using kernels::ResizeNearest;

Status resize_attrs(const ir::Node& node, int64_t opset, bool is_upsample, kernels::ResizeParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") p->mode = ResizeMode::kNearest;
  else if (mode == "linear" || (is_upsample && mode == "bilinear")) p->mode = ResizeMode::kLinear;
  else if (mode == "cubic" && !is_upsample && opset >= 11) p->mode = ResizeMode::kCubic;
  else return fail("unsupported mode '" + mode + "'");
  if (is_upsample || opset < 11) {
    p->coord = ResizeCoord::kAsymmetric;
    p->nearest = ResizeNearest::kSimple;
    return Status::Ok();
  }
  const std::string ct = node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (ct == "half_pixel") p->coord = ResizeCoord::kHalfPixel;
  else if (ct == "half_pixel_symmetric") p->coord = ResizeCoord::kHalfPixelSymmetric;
  else if (ct == "pytorch_half_pixel") p->coord = ResizeCoord::kPytorchHalfPixel;
  else if (ct == "align_corners") p->coord = ResizeCoord::kAlignCorners;
  else if (ct == "asymmetric") p->coord = ResizeCoord::kAsymmetric;
  else if (ct == "tf_half_pixel_for_nn") p->coord = ResizeCoord::kTfHalfPixelForNn;
  else if (ct == "tf_crop_and_resize") p->coord = ResizeCoord::kTfCropAndResize;
  else return fail("unknown coordinate_transformation_mode '" + ct + "'");
  const std::string nm = node.attr_string("nearest_mode", "round_prefer_floor");
  if (nm == "round_prefer_floor") p->nearest = ResizeNearest::kRoundPreferFloor;
  else if (nm == "round_prefer_ceil") p->nearest = ResizeNearest::kRoundPreferCeil;
  else if (nm == "floor") p->nearest = ResizeNearest::kFloor;
  else if (nm == "ceil") p->nearest = ResizeNearest::kCeil;
  else return fail("unknown nearest_mode '" + nm + "'");
  p->cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  p->exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  p->extrapolation_value = node.attr_float("extrapolation_value", 0.f);
  p->antialias = opset >= 18 && node.attr_int("antialias", 0) != 0 && p->mode != ResizeMode::kNearest;
  return Status::Ok();
}

Status resize_geometry(const ir::Node& node, const Shape& x, const Tensor* roi, const Tensor* scales,
                       const Tensor* sizes, kernels::ResizeParams* p) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  const int64_t r = static_cast<int64_t>(x.size());
  if (r == 0) return fail("X must have rank >= 1");
  std::vector<int64_t> axes;
  for (int64_t a : node.attr_ints("axes")) {
    int64_t n = 0;
    if (!normalize_axis(a, r, &n)) return fail("axis " + std::to_string(a) + " is out of range");
    if (std::find(axes.begin(), axes.end(), n) != axes.end()) return fail("axes are repeated");
    axes.push_back(n);
  }
  if (axes.empty())
    for (int64_t a = 0; a < r; ++a) axes.push_back(a);
  const size_t na = axes.size();
  p->in_shape = x;
  p->out_shape = x;
  p->scales.assign(r, 1.0);
  p->roi_start.assign(r, 0.0);
  p->roi_end.assign(r, 1.0);
  if (p->coord == ResizeCoord::kTfCropAndResize && roi && roi->numel() > 0) {
    if (roi->numel() != static_cast<int64_t>(2 * na))
      return fail("roi has " + std::to_string(roi->numel()) + " values, expected " + std::to_string(2 * na));
    for (size_t i = 0; i < na; ++i) {
      p->roi_start[axes[i]] = roi->get_f64(i);
      p->roi_end[axes[i]] = roi->get_f64(na + i);
    }
  }
  const bool have_sizes = sizes && sizes->numel() > 0;
  const bool have_scales = scales && scales->numel() > 0;
  if (have_sizes == have_scales) return fail("exactly one of scales and sizes must be given");
  if (have_scales) {
    if (scales->numel() != static_cast<int64_t>(na))
      return fail("scales has " + std::to_string(scales->numel()) + " values for " + std::to_string(na) + " axes");
    for (size_t i = 0; i < na; ++i) {
      const double s = scales->get_f64(i);
      if (!(s > 0) || !std::isfinite(s)) return fail("scales must be positive and finite");
      const int64_t a = axes[i];
      p->scales[a] = s;
      p->out_shape[a] = static_cast<int64_t>(std::floor(s * static_cast<double>(x[a])));
    }
    return Status::Ok();
  }
  if (sizes->numel() != static_cast<int64_t>(na))
    return fail("sizes has " + std::to_string(sizes->numel()) + " values for " + std::to_string(na) + " axes");
  for (size_t i = 0; i < na; ++i)
    if (sizes->get_i64(i) < 0) return fail("sizes must be non-negative");
  const std::string policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
  if (policy == "stretch") {
    for (size_t i = 0; i < na; ++i) {
      const int64_t a = axes[i];
      p->out_shape[a] = sizes->get_i64(i);
      p->scales[a] = x[a] ? static_cast<double>(p->out_shape[a]) / static_cast<double>(x[a]) : 1.0;
    }
    return Status::Ok();
  }
  if (policy != "not_larger" && policy != "not_smaller")
    return fail("unknown keep_aspect_ratio_policy '" + policy + "'");
  double scale = policy == "not_larger" ? 1e300 : 0.0;
  for (size_t i = 0; i < na; ++i) {
    const double s = x[axes[i]] ? static_cast<double>(sizes->get_i64(i)) / static_cast<double>(x[axes[i]]) : 1.0;
    scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
  }
  for (int64_t a : axes) {
    p->scales[a] = scale;
    p->out_shape[a] = static_cast<int64_t>(scale * static_cast<double>(x[a]) + 0.5);
  }
  return Status::Ok();
}

namespace {

// Nearest resize of the last two axes as a row gather (integer types): null unless the mode is nearest, the leading
// axes are not resized and no sample is extrapolated. Each output row copies the previous one when both read the
// same input row. Same values as the reference (same per-axis taps).
template <typename T>
std::unique_ptr<Kernel> nearest_gather_kernel(const kernels::ResizeParams& p) {
  const int r = static_cast<int>(p.in_shape.size());
  if (p.mode != ResizeMode::kNearest || r < 2 || shape_numel(p.out_shape) == 0) return nullptr;
  int64_t planes = 1;
  for (int a = 0; a < r - 2; ++a) {
    if (!kernels::ref::resize_axis_taps(p, a).identity) return nullptr;
    planes *= p.in_shape[a];
  }
  const kernels::ResizeTaps th = kernels::ref::resize_axis_taps(p, r - 2);
  const kernels::ResizeTaps tw = kernels::ref::resize_axis_taps(p, r - 1);
  for (const kernels::ResizeTaps* t : {&th, &tw})
    for (uint8_t o : t->outside)
      if (o) return nullptr;
  const int64_t H = p.in_shape[r - 2], W = p.in_shape[r - 1], OH = p.out_shape[r - 2], OW = p.out_shape[r - 1];
  std::vector<int64_t> ih(th.index.begin(), th.index.begin() + OH), iw(tw.index.begin(), tw.index.begin() + OW);
  return make_kernel(
      [=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
        const T* x = in[0]->data<T>();
        T* y = o[0]->data<T>();
        parallel_for(planes, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, OH * OW)), [&](int64_t b, int64_t e) {
          for (int64_t pl = b; pl < e; ++pl)
            for (int64_t oh = 0; oh < OH; ++oh) {
              T* yr = y + (pl * OH + oh) * OW;
              if (oh > 0 && ih[oh] == ih[oh - 1]) {
                std::copy(yr - OW, yr, yr);
                continue;
              }
              const T* xr = x + (pl * H + ih[oh]) * W;
              for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = xr[iw[ow]];
            }
        });
        return Status::Ok();
      },
      "gather");
}

template <typename T>
std::unique_ptr<Kernel> ref_kernel(const kernels::ResizeParams& p) {
  return make_kernel([p](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
    if (o[0]->numel()) kernels::ref::resize<T>(p, in[0]->data<T>(), o[0]->data<T>());
    return Status::Ok();
  });
}
}  // namespace

Status create_resize_kernel(const KernelInit& init, DType t, const kernels::ResizeParams& p,
                            std::unique_ptr<Kernel>* out) {
  switch (t) {
    case DType::kF32: {
      std::unique_ptr<kernels::x86::Resize2d> fast;
      if (!init.reference_only && shape_numel(p.out_shape) > 0 && kernels::x86::Resize2d::create(p, &fast)) {
        std::shared_ptr<kernels::x86::Resize2d> f(std::move(fast));
        *out = make_kernel(
            [f](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& o) {
              f->run(in[0]->data<float>(), o[0]->data<float>());
              return Status::Ok();
            },
            "x86");
        return Status::Ok();
      }
      *out = ref_kernel<float>(p);
      return Status::Ok();
    }
    case DType::kF64: *out = ref_kernel<double>(p); return Status::Ok();
    case DType::kI8:
      if (!init.reference_only && (*out = nearest_gather_kernel<int8_t>(p))) return Status::Ok();
      *out = ref_kernel<int8_t>(p);
      return Status::Ok();
    case DType::kU8:
      if (!init.reference_only && (*out = nearest_gather_kernel<uint8_t>(p))) return Status::Ok();
      *out = ref_kernel<uint8_t>(p);
      return Status::Ok();
    case DType::kI16:  // the int16 nodes of the fixed-point model (nearest resizes of int16 activations)
      if (!init.reference_only && (*out = nearest_gather_kernel<int16_t>(p))) return Status::Ok();
      *out = ref_kernel<int16_t>(p);
      return Status::Ok();
    case DType::kI32: *out = ref_kernel<int32_t>(p); return Status::Ok();
    case DType::kI64: *out = ref_kernel<int64_t>(p); return Status::Ok();
    default:
      return unsupported(init.node.describe() + ": dtype " + dtype_name(t) + " is not supported");
  }
}

}  // namespace kaiwu::ops
