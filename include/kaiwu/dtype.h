// Element types of tensors, with their ONNX names and sizes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace kaiwu {

enum class DType : uint8_t { kUndefined = 0, kF32, kF16, kF64, kI8, kU8, kI16, kU16, kI32, kU32, kI64, kU64, kBool };

// Size of one element in bytes (0 for kUndefined).
size_t dtype_size(DType t);
// Lower-case short name: "f32", "i8", ... ("undefined" for kUndefined).
const char* dtype_name(DType t);
// Parses a short name or a numpy/ONNX-ish spelling ("float32", "int8", "uint8", "float", ...).
DType dtype_from_name(const std::string& name);
bool dtype_is_float(DType t);
bool dtype_is_integer(DType t);

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kF32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kF64; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kI8; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kU8; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::kI16; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::kU16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kI32; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::kU32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kI64; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::kU64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };

}  // namespace kaiwu
