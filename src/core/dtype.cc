#include "kaiwu/dtype.h"

namespace kaiwu {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: case DType::kU32: return 4;
    case DType::kF16: case DType::kI16: case DType::kU16: return 2;
    case DType::kF64: case DType::kI64: case DType::kU64: return 8;
    case DType::kI8: case DType::kU8: case DType::kBool: return 1;
    case DType::kUndefined: return 0;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kF64: return "f64";
    case DType::kI8: return "i8";
    case DType::kU8: return "u8";
    case DType::kI16: return "i16";
    case DType::kU16: return "u16";
    case DType::kI32: return "i32";
    case DType::kU32: return "u32";
    case DType::kI64: return "i64";
    case DType::kU64: return "u64";
    case DType::kBool: return "bool";
    case DType::kUndefined: return "undefined";
  }
  return "undefined";
}

DType dtype_from_name(const std::string& n) {
  if (n == "f32" || n == "float32" || n == "float") return DType::kF32;
  if (n == "f16" || n == "float16") return DType::kF16;
  if (n == "f64" || n == "float64" || n == "double") return DType::kF64;
  if (n == "i8" || n == "int8") return DType::kI8;
  if (n == "u8" || n == "uint8") return DType::kU8;
  if (n == "i16" || n == "int16") return DType::kI16;
  if (n == "u16" || n == "uint16") return DType::kU16;
  if (n == "i32" || n == "int32") return DType::kI32;
  if (n == "u32" || n == "uint32") return DType::kU32;
  if (n == "i64" || n == "int64") return DType::kI64;
  if (n == "u64" || n == "uint64") return DType::kU64;
  if (n == "bool") return DType::kBool;
  return DType::kUndefined;
}

bool dtype_is_float(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kF64; }
bool dtype_is_integer(DType t) { return !dtype_is_float(t) && t != DType::kUndefined && t != DType::kBool; }

}  // namespace kaiwu
