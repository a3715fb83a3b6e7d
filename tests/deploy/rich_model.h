// A small ir::Model exercising every IR feature a deployable file must keep (shared by the deploy tests).
#pragma once
#include <cmath>
#include <limits>
#include <string>

#include "ir/graph.h"
#include "model_builder.h"
#include "test_util.h"

namespace kaiwu::test {

// A graph using every attribute kind, every dtype, empty optional inputs, value_info, several opsets, a 0-element
// tensor, symbolic and unknown dims, kaiwu-domain nodes, an empty node name and unusual model fields.
inline ir::Model rich_model() {
  test::ModelBuilder b(13);
  ir::Model& m = b.m;
  m.opsets["kaiwu"] = 1;
  m.opsets["com.example"] = 3;
  m.ir_version = 6;
  m.producer_name = "";
  m.producer_version = "0.1.0";
  m.doc_string = std::string("doc with \0 byte", 15);
  m.metadata["k1"] = "v1";
  m.metadata["empty"] = "";
  m.graph.name = "";
  ir::ValueInfo x;
  x.name = "x";
  x.dtype = DType::kF32;
  x.has_shape = true;
  x.dims = {ir::Dim::symbol("N"), ir::Dim::fixed(3), ir::Dim{}, ir::Dim::fixed(0)};
  m.graph.inputs.push_back(x);
  ir::ValueInfo untyped;
  untyped.name = "y";
  m.graph.outputs.push_back(untyped);
  ir::ValueInfo scalar;
  scalar.name = "z";
  scalar.dtype = DType::kI64;
  scalar.has_shape = true;  // rank 0
  m.graph.outputs.push_back(scalar);
  ir::ValueInfo shape_only;
  shape_only.name = "t1";
  shape_only.has_shape = true;
  shape_only.dims = {ir::Dim::fixed(7)};
  m.graph.value_info["t1"] = shape_only;
  ir::ValueInfo typed;
  typed.name = "t2";
  typed.dtype = DType::kF16;
  m.graph.value_info["t2"] = typed;

  unsigned seed = 1;
  const DType all[] = {DType::kF32, DType::kF16, DType::kF64, DType::kI8,  DType::kU8,  DType::kI16,
                       DType::kU16, DType::kI32, DType::kU32, DType::kI64, DType::kU64, DType::kBool};
  for (DType dt : all) {
    Tensor t = Tensor::empty(dt, {2, 3});
    auto* p = static_cast<uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(dt == DType::kBool ? (i & 1) : seed++ * 37);
    b.constant(std::string("w_") + dtype_name(dt), t);
  }
  b.constant("empty", Tensor::zeros(DType::kF32, {0, 4}));
  b.constant("scalar", Tensor::from_vector<int64_t>({-5}));
  b.constant("odd", Tensor::from_vector<uint8_t>({1, 2, 3}));  // 3 bytes: the next tensor must be realigned
  b.constant("big", test::random_f32({33, 17}, 7));

  ir::Node& n = b.node("", "QLinearConv", {"x", "", "w_i8", "", "odd"}, {"t1", ""});
  n.domain = "kaiwu";
  n.attrs["i"] = ir::Attribute::make_int(std::numeric_limits<int64_t>::min());
  n.attrs["f"] = ir::Attribute::make_float(std::nanf(""));
  n.attrs["fneg0"] = ir::Attribute::make_float(-0.0f);
  n.attrs["s"] = ir::Attribute::make_string(std::string("a\0b", 3));
  n.attrs["ints"] = ir::Attribute::make_ints({1, -2, 3});
  n.attrs["ints_empty"] = ir::Attribute::make_ints({});
  n.attrs["floats"] = ir::Attribute::make_floats({0.5f, -1e-30f, std::numeric_limits<float>::infinity()});
  n.attrs["strings"] = ir::Attribute::make_strings({"NHWC", "", "x"});
  n.attrs["tensor"] = ir::Attribute::make_tensor(Tensor::from_vector<float>({1.5f, 2.5f}));
  n.attrs["tensor_empty"] = ir::Attribute::make_tensor(Tensor::zeros(DType::kI8, {0}));
  n.attrs["tensor_undef"] = ir::Attribute::make_tensor(Tensor());
  b.node("", "Relu", {"t1"}, {"t2"});  // repeated empty name stays empty
  ir::Node& q = b.node("dup", "Requantize", {"t2", "w_f32"}, {"y"});
  q.domain = "kaiwu";
  b.node("dup", "Shape", {"y"}, {"z"});  // repeated name stays repeated
  return m;
}

}  // namespace kaiwu::test
