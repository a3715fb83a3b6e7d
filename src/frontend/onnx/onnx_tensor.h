// Conversions between onnx::TensorProto / element types and kaiwu tensors / dtypes.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::frontend {

DType dtype_from_onnx(int32_t elem_type);
int32_t dtype_to_onnx(DType t);
// Reads a TensorProto (inline typed fields, raw_data or external data relative to base_dir).
Status tensor_from_onnx(const onnx::TensorProto& tp, const std::string& base_dir, Tensor* out);
void tensor_to_onnx(const Tensor& t, const std::string& name, onnx::TensorProto* tp);

}  // namespace kaiwu::frontend
