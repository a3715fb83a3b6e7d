// Calibration data: one folder per model input holding .npy files (numpy.save) or raw files (ndarray.tofile),
// paired by sorted file name; or deterministic random data when no folder is given.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kaiwu/session.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::calib {

// A model input as calibration sees it: name, element type fed to the model and its full static shape.
struct InputSpec {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
};

// The raw-file element type of a calibration folder: `cal_data_type` when set ("float32", "uint8", "int32",
// "int16", "int8", "float16", "float64"), else float32 if the folder name ends with "_f32", else uint8.
Status raw_dtype_for_folder(const std::string& dir, const std::string& cal_data_type, DType* out);

class CalibrationDataset {
 public:
  // Lists the files of each input folder (dirs[i] feeds inputs[i]). Errors: count mismatch between inputs and
  // dirs, a missing / unreadable / empty folder (named), folders with different file counts (named, with counts),
  // a bad cal_data_type. Files are read lazily by sample().
  static Status open(const std::vector<InputSpec>& inputs, const std::vector<std::string>& dirs,
                     const std::string& cal_data_type, CalibrationDataset* out);
  // `n` samples of deterministic pseudo-random data (the same for the same seed): float inputs uniform in
  // [-1, 1), 8-bit integer inputs over their full range, other integer inputs uniform in [0, 16).
  static CalibrationDataset random(const std::vector<InputSpec>& inputs, size_t n, uint64_t seed);

  size_t size() const { return count_; }
  const std::vector<InputSpec>& inputs() const { return inputs_; }
  // The file of input `k` for sample `i` ("" for random data).
  std::string file(size_t i, size_t k) const;
  // Reads sample i into `feeds` (one tensor per input, in input order, converted to the input's dtype, shape
  // exactly the input shape). Errors name the file: unreadable / Fortran-ordered / object .npy, wrong shape
  // (expected vs actual), raw size mismatch (expected vs actual bytes), NaN/Inf (first bad flat index).
  Status sample(size_t i, NamedTensors* feeds) const;

 private:
  Status read_one(size_t i, size_t k, Tensor* out) const;

  std::vector<InputSpec> inputs_;
  std::vector<std::vector<std::string>> files_;  // per input, sorted full paths
  std::vector<DType> raw_dtypes_;                // per input, element type of raw files
  size_t count_ = 0;
  bool random_ = false;
  uint64_t seed_ = 0;
};

// Same as CalibrationDataset::random.
CalibrationDataset random_dataset(const std::vector<InputSpec>& inputs, size_t n, uint64_t seed);

}  // namespace kaiwu::calib
