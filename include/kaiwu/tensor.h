// Tensor: a dense, row-major, typed n-d array. Owns 64-byte aligned memory, or views memory owned elsewhere.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kaiwu/dtype.h"

namespace kaiwu {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar shape {}).
int64_t shape_numel(const Shape& s);
// "[1, 3, 224, 224]"
std::string shape_to_string(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  // Allocates a zero-filled tensor.
  static Tensor zeros(DType dtype, Shape shape);
  // Allocates without initializing (use when every element is written).
  static Tensor empty(DType dtype, Shape shape);
  // Views external memory; the caller keeps it alive.
  static Tensor view(DType dtype, Shape shape, void* data);
  // Views memory kept alive by `owner` (e.g. a file mapping): the tensor shares ownership of it.
  static Tensor view_shared(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);
  // Scalar and vector helpers.
  template <typename T> static Tensor from_vector(const std::vector<T>& v, Shape shape = {});

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }
  bool owns_memory() const { return static_cast<bool>(storage_); }
  // Deep copy into fresh memory.
  Tensor clone() const;
  // Same memory, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Element i converted to double / int64 (any dtype), for small tensors such as shapes and scales.
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  std::vector<int64_t> to_i64_vector() const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

template <typename T> Tensor Tensor::from_vector(const std::vector<T>& v, Shape shape) {
  if (shape.empty() && v.size() != 1) shape = {static_cast<int64_t>(v.size())};
  Tensor t = empty(DTypeOf<T>::value, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = v[i];
  return t;
}

}  // namespace kaiwu
