// Shared checks and parameter reading of the kaiwu fixed-point ops (kaiwu.QAdd, QMul, QLut, Requantize,
// QGlobalAveragePool, QAveragePool): per-tensor f32 scales and integer zero points given as inputs.
#pragma once
#include <string>
#include <vector>

#include "kernels/ref/qpool.h"
#include "ops/op_def.h"

namespace kaiwu::ops {

// int8, uint8 or int16: the tensor types of the fixed-point ops.
inline bool is_fixed_point_type(DType t) { return t == DType::kI8 || t == DType::kU8 || t == DType::kI16; }

// Checks a scale input: f32 with one element (rank 0 or 1). Returns "" or the reason (naming `what`).
std::string check_scale_desc(const TensorDesc& d, const char* what);
// Checks a zero-point input: one element (rank 0 or 1) of dtype `want` (must be a fixed-point type).
std::string check_zero_point_desc(const TensorDesc& d, DType want, const char* what);
// Checks a data input's dtype is a fixed-point type.
std::string check_data_desc(const TensorDesc& d, const char* what);

// The first element of a scale tensor / zero-point tensor (0 for a null zero point).
float scalar_scale(const Tensor& t);
int32_t scalar_zero_point(const Tensor* t);

// Validates the five-input (X, x_scale, x_zero_point, y_scale, y_zero_point) signature of Requantize and the pools:
// exactly 5 inputs, all present; X and x_zero_point of one fixed-point type; y_zero_point fixed-point (the output
// type). Returns "" or the reason.
std::string check_requant_inputs(const std::vector<TensorDesc>& in);

// Per-tensor pool quantization from the inputs of a five-input op (constant or run-time values).
kernels::QPoolQuant pool_quant_from(const Tensor& xs, const Tensor& xz, const Tensor& ys, const Tensor& yz);

// Shape inference and kernel creation of kaiwu.QAdd (mul = false) and kaiwu.QMul (mul = true).
Status infer_qbinary(InferContext& ctx, bool mul);
Status create_qbinary(const KernelInit& init, bool mul, std::unique_ptr<Kernel>* out);


}  // namespace kaiwu::ops
