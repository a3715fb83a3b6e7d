#include "calib/convert.h"

#include <cmath>
#include <vector>

#include "core/half.h"
#include "core/qmath.h"

namespace kaiwu::calib {
namespace {

template <typename D>
void store_all(const Tensor& src, D* dst) {
  const int64_t n = src.numel();
  switch (src.dtype()) {
    case DType::kF32: {
      const float* s = src.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_floating_point_v<D>) dst[i] = static_cast<D>(s[i]);
        else dst[i] = qmath::saturate_cast<D>(static_cast<double>(s[i]));
      }
      return;
    }
    case DType::kU8: {
      const uint8_t* s = src.data<uint8_t>();
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<D>(s[i]);
      return;
    }
    default:
      for (int64_t i = 0; i < n; ++i) {
        double v = src.get_f64(i);
        if constexpr (std::is_floating_point_v<D>) dst[i] = static_cast<D>(v);
        else dst[i] = qmath::saturate_cast<D>(v);
      }
  }
}

}  // namespace

Status convert_tensor(const Tensor& src, DType dst, Tensor* out) {
  if (!src.defined()) return invalid_argument("cannot convert an undefined tensor");
  if (src.dtype() == DType::kBool || dst == DType::kBool || dst == DType::kUndefined)
    return invalid_argument(std::string("cannot convert ") + dtype_name(src.dtype()) + " to " + dtype_name(dst) +
                            " (numeric types only)");
  if (src.dtype() == dst) {
    *out = src;
    return Status::Ok();
  }
  Tensor t = Tensor::empty(dst, src.shape());
  switch (dst) {
    case DType::kF32: store_all(src, t.data<float>()); break;
    case DType::kF64: store_all(src, t.data<double>()); break;
    case DType::kF16: {
      std::vector<float> tmp(static_cast<size_t>(src.numel()));
      store_all(src, tmp.data());
      for (size_t i = 0; i < tmp.size(); ++i) t.data<uint16_t>()[i] = float_to_half(tmp[i]);
      break;
    }
    case DType::kI8: store_all(src, t.data<int8_t>()); break;
    case DType::kU8: store_all(src, t.data<uint8_t>()); break;
    case DType::kI16: store_all(src, t.data<int16_t>()); break;
    case DType::kU16: store_all(src, t.data<uint16_t>()); break;
    case DType::kI32: store_all(src, t.data<int32_t>()); break;
    case DType::kU32: store_all(src, t.data<uint32_t>()); break;
    case DType::kI64: store_all(src, t.data<int64_t>()); break;
    case DType::kU64: store_all(src, t.data<uint64_t>()); break;
    default: return invalid_argument(std::string("cannot convert to ") + dtype_name(dst));
  }
  *out = std::move(t);
  return Status::Ok();
}

int64_t first_non_finite(const Tensor& t) {
  const int64_t n = t.numel();
  if (t.dtype() == DType::kF32) {
    const float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return i;
  } else if (t.dtype() == DType::kF64) {
    const double* p = t.data<double>();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return i;
  } else if (t.dtype() == DType::kF16) {
    const uint16_t* p = t.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i)
      if ((p[i] & 0x7c00u) == 0x7c00u) return i;
  }
  return -1;
}

}  // namespace kaiwu::calib
