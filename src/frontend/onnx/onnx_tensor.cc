#include "frontend/onnx/onnx_tensor.h"

#include <cstring>
#include <fstream>

namespace kaiwu::frontend {

DType dtype_from_onnx(int32_t e) {
  switch (e) {
    case onnx::TensorProto::FLOAT: return DType::kF32;
    case onnx::TensorProto::FLOAT16: return DType::kF16;
    case onnx::TensorProto::DOUBLE: return DType::kF64;
    case onnx::TensorProto::INT8: return DType::kI8;
    case onnx::TensorProto::UINT8: return DType::kU8;
    case onnx::TensorProto::INT16: return DType::kI16;
    case onnx::TensorProto::UINT16: return DType::kU16;
    case onnx::TensorProto::INT32: return DType::kI32;
    case onnx::TensorProto::UINT32: return DType::kU32;
    case onnx::TensorProto::INT64: return DType::kI64;
    case onnx::TensorProto::UINT64: return DType::kU64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    default: return DType::kUndefined;
  }
}

int32_t dtype_to_onnx(DType t) {
  switch (t) {
    case DType::kF32: return onnx::TensorProto::FLOAT;
    case DType::kF16: return onnx::TensorProto::FLOAT16;
    case DType::kF64: return onnx::TensorProto::DOUBLE;
    case DType::kI8: return onnx::TensorProto::INT8;
    case DType::kU8: return onnx::TensorProto::UINT8;
    case DType::kI16: return onnx::TensorProto::INT16;
    case DType::kU16: return onnx::TensorProto::UINT16;
    case DType::kI32: return onnx::TensorProto::INT32;
    case DType::kU32: return onnx::TensorProto::UINT32;
    case DType::kI64: return onnx::TensorProto::INT64;
    case DType::kU64: return onnx::TensorProto::UINT64;
    case DType::kBool: return onnx::TensorProto::BOOL;
    case DType::kUndefined: return onnx::TensorProto::UNDEFINED;
  }
  return onnx::TensorProto::UNDEFINED;
}

namespace {
template <typename Dst, typename Field>
Status copy_field(const Field& f, Tensor* t, const std::string& name) {
  if (static_cast<int64_t>(f.size()) != t->numel())
    return invalid_argument("tensor '" + name + "' has " + std::to_string(f.size()) + " values for shape " +
                            shape_to_string(t->shape()));
  Dst* d = t->data<Dst>();
  for (int i = 0; i < f.size(); ++i) d[i] = static_cast<Dst>(f.Get(i));
  return Status::Ok();
}
}  // namespace

Status tensor_from_onnx(const onnx::TensorProto& tp, const std::string& base_dir, Tensor* out) {
  const std::string& name = tp.name();
  DType dt = dtype_from_onnx(tp.data_type());
  if (dt == DType::kUndefined)
    return unsupported("tensor '" + name + "' has unsupported element type " + std::to_string(tp.data_type()));
  Shape shape(tp.dims().begin(), tp.dims().end());
  for (int64_t d : shape)
    if (d < 0) return invalid_argument("tensor '" + name + "' has a negative dimension");
  if (shape_numel(shape) > (int64_t(1) << 34)) return invalid_argument("tensor '" + name + "' is implausibly large");
  Tensor t = Tensor::zeros(dt, shape);
  const size_t nbytes = t.nbytes();
  if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : tp.external_data()) {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    }
    if (location.empty() || location.find("..") != std::string::npos)
      return invalid_argument("tensor '" + name + "' has an invalid external data location '" + location + "'");
    std::string path = base_dir.empty() ? location : base_dir + "/" + location;
    std::ifstream f(path, std::ios::binary);
    if (!f) return io_error("tensor '" + name + "': cannot open external data file '" + path + "'");
    if (length >= 0 && static_cast<size_t>(length) != nbytes)
      return invalid_argument("tensor '" + name + "': external data length does not match its shape");
    f.seekg(offset);
    f.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(nbytes));
    if (static_cast<size_t>(f.gcount()) != nbytes)
      return invalid_argument("tensor '" + name + "': external data file '" + path + "' is too short");
    *out = std::move(t);
    return Status::Ok();
  }
  if (tp.has_raw_data()) {
    if (tp.raw_data().size() != nbytes)
      return invalid_argument("tensor '" + name + "' has " + std::to_string(tp.raw_data().size()) +
                              " bytes of raw data, expected " + std::to_string(nbytes) + " for " + dtype_name(dt) +
                              shape_to_string(shape));
    if (nbytes) std::memcpy(t.raw(), tp.raw_data().data(), nbytes);
    *out = std::move(t);
    return Status::Ok();
  }
  Status st;
  switch (dt) {
    case DType::kF32: st = copy_field<float>(tp.float_data(), &t, name); break;
    case DType::kF64: st = copy_field<double>(tp.double_data(), &t, name); break;
    case DType::kI64: st = copy_field<int64_t>(tp.int64_data(), &t, name); break;
    case DType::kU64: st = copy_field<uint64_t>(tp.uint64_data(), &t, name); break;
    case DType::kU32: st = copy_field<uint32_t>(tp.uint64_data(), &t, name); break;
    case DType::kI32: st = copy_field<int32_t>(tp.int32_data(), &t, name); break;
    case DType::kI8: st = copy_field<int8_t>(tp.int32_data(), &t, name); break;
    case DType::kU8: st = copy_field<uint8_t>(tp.int32_data(), &t, name); break;
    case DType::kI16: st = copy_field<int16_t>(tp.int32_data(), &t, name); break;
    case DType::kU16: case DType::kF16: st = copy_field<uint16_t>(tp.int32_data(), &t, name); break;
    case DType::kBool: st = copy_field<bool>(tp.int32_data(), &t, name); break;
    default: st = unsupported("tensor '" + name + "' element type");
  }
  KW_RETURN_IF_ERROR(st);
  *out = std::move(t);
  return Status::Ok();
}

void tensor_to_onnx(const Tensor& t, const std::string& name, onnx::TensorProto* tp) {
  tp->set_name(name);
  tp->set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.shape()) tp->add_dims(d);
  tp->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

}  // namespace kaiwu::frontend
