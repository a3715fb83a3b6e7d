#include "calib/dataset.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "calib/convert.h"
#include "core/npy.h"

namespace kaiwu::calib {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string folder_name(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && (d.back() == '/' || d.back() == '\\')) d.pop_back();
  return fs::path(d).filename().string();
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Fills t with deterministic values from `state` (xorshift-style stream through splitmix64).
void fill_random(Tensor* t, uint64_t state) {
  const int64_t n = t->numel();
  std::vector<double> v(static_cast<size_t>(n));
  const DType d = t->dtype();
  for (int64_t i = 0; i < n; ++i) {
    state = splitmix64(state);
    double u = static_cast<double>(state >> 11) * 0x1.0p-53;  // [0, 1)
    if (dtype_is_float(d)) v[i] = 2.0 * u - 1.0;
    else if (d == DType::kU8) v[i] = static_cast<double>(static_cast<int>(u * 256));
    else if (d == DType::kI8) v[i] = static_cast<double>(static_cast<int>(u * 256) - 128);
    else v[i] = static_cast<double>(static_cast<int>(u * 16));
  }
  Tensor src = Tensor::view(DType::kF64, t->shape(), v.data());
  Tensor conv;
  if (convert_tensor(src, d, &conv).ok()) std::memcpy(t->raw(), conv.raw(), t->nbytes());
}

}  // namespace

Status raw_dtype_for_folder(const std::string& dir, const std::string& cal_data_type, DType* out) {
  if (!cal_data_type.empty()) {
    DType d = dtype_from_name(cal_data_type);
    if (d == DType::kUndefined || d == DType::kBool || d == DType::kI64 || d == DType::kU64 || d == DType::kU16 ||
        d == DType::kU32)
      return invalid_argument("cal_data_type '" + cal_data_type +
                              "' is not supported (use float32, uint8, int32, int16, int8, float16 or float64)");
    *out = d;
    return Status::Ok();
  }
  *out = ends_with(folder_name(dir), "_f32") ? DType::kF32 : DType::kU8;
  return Status::Ok();
}

Status CalibrationDataset::open(const std::vector<InputSpec>& inputs, const std::vector<std::string>& dirs,
                                const std::string& cal_data_type, CalibrationDataset* out) {
  if (inputs.empty()) return invalid_argument("calibration: the model has no inputs");
  if (inputs.size() != dirs.size())
    return invalid_argument("calibration: " + std::to_string(dirs.size()) + " cal_data_dir folder(s) for " +
                            std::to_string(inputs.size()) + " model input(s); give one folder per input");
  CalibrationDataset ds;
  ds.inputs_ = inputs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    for (int64_t d : inputs[k].shape)
      if (d < 0)
        return invalid_argument("calibration: input '" + inputs[k].name + "' has a dynamic shape " +
                                shape_to_string(inputs[k].shape) + "; set input_shape");
    const std::string& dir = dirs[k];
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec))
      return not_found("calibration folder '" + dir + "' for input '" + inputs[k].name + "' does not exist or is not a folder");
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string fname = it->path().filename().string();
      if (fname.empty() || fname[0] == '.') continue;
      std::error_code ec2;
      if (!it->is_regular_file(ec2)) continue;
      names.push_back(fname);
    }
    if (ec) return io_error("calibration folder '" + dir + "' cannot be read: " + ec.message());
    if (names.empty())
      return invalid_argument("calibration folder '" + dir + "' for input '" + inputs[k].name + "' is empty");
    std::sort(names.begin(), names.end());
    std::vector<std::string> paths;
    for (const auto& n : names) paths.push_back((fs::path(dir) / n).string());
    ds.files_.push_back(std::move(paths));
    DType rd;
    KW_RETURN_IF_ERROR(raw_dtype_for_folder(dir, cal_data_type, &rd));
    ds.raw_dtypes_.push_back(rd);
  }
  ds.count_ = ds.files_[0].size();
  for (size_t k = 1; k < ds.files_.size(); ++k)
    if (ds.files_[k].size() != ds.count_)
      return invalid_argument("calibration folders hold different sample counts: '" + dirs[0] + "' has " +
                              std::to_string(ds.count_) + " files, '" + dirs[k] + "' has " +
                              std::to_string(ds.files_[k].size()));
  *out = std::move(ds);
  return Status::Ok();
}

CalibrationDataset CalibrationDataset::random(const std::vector<InputSpec>& inputs, size_t n, uint64_t seed) {
  CalibrationDataset ds;
  ds.inputs_ = inputs;
  ds.count_ = n;
  ds.random_ = true;
  ds.seed_ = seed;
  return ds;
}

CalibrationDataset random_dataset(const std::vector<InputSpec>& inputs, size_t n, uint64_t seed) {
  return CalibrationDataset::random(inputs, n, seed);
}

std::string CalibrationDataset::file(size_t i, size_t k) const {
  if (random_ || k >= files_.size() || i >= files_[k].size()) return "";
  return files_[k][i];
}

Status CalibrationDataset::read_one(size_t i, size_t k, Tensor* out) const {
  const InputSpec& in = inputs_[k];
  const std::string& path = files_[k][i];
  Tensor t;
  if (ends_with(path, ".npy") || ends_with(path, ".NPY")) {
    KW_RETURN_IF_ERROR(read_npy(path, &t));
    if (t.shape() != in.shape) {
      Shape no_batch(in.shape.size() > 1 ? in.shape.begin() + 1 : in.shape.end(), in.shape.end());
      if (!in.shape.empty() && in.shape[0] == 1 && t.shape() == no_batch) {
        t = t.reshaped(in.shape);
      } else {
        return invalid_argument("calibration file '" + path + "' has shape " + shape_to_string(t.shape()) +
                                ", expected " + shape_to_string(in.shape) + " for input '" + in.name + "'" +
                                (!in.shape.empty() && in.shape[0] == 1 ? " (or " + shape_to_string(no_batch) + ")"
                                                                       : std::string()));
      }
    }
    if (t.dtype() == DType::kBool)
      return invalid_argument("calibration file '" + path + "' holds a bool array; save numeric data");
  } else {
    Status st = read_raw(path, raw_dtypes_[k], in.shape, &t);
    if (!st.ok())
      return st.with_context("calibration input '" + in.name + "' (raw " + dtype_name(raw_dtypes_[k]) +
                             " data; set cal_data_type or the _f32 folder suffix if the element type is wrong)");
  }
  int64_t bad = first_non_finite(t);
  if (bad >= 0)
    return invalid_argument("calibration file '" + path + "' contains NaN or Inf (first at flat index " +
                            std::to_string(bad) + ")");
  Tensor conv;
  KW_RETURN_IF_ERROR(convert_tensor(t, in.dtype, &conv).with_context("calibration file '" + path + "'"));
  if (!conv.owns_memory()) conv = conv.clone();
  *out = std::move(conv);
  return Status::Ok();
}

Status CalibrationDataset::sample(size_t i, NamedTensors* feeds) const {
  if (i >= count_)
    return invalid_argument("calibration sample " + std::to_string(i) + " out of range (" + std::to_string(count_) +
                            " samples)");
  feeds->clear();
  for (size_t k = 0; k < inputs_.size(); ++k) {
    Tensor t;
    if (random_) {
      t = Tensor::empty(inputs_[k].dtype, inputs_[k].shape);
      fill_random(&t, splitmix64(seed_ ^ splitmix64(i * 1315423911ull + k)));
    } else {
      KW_RETURN_IF_ERROR(read_one(i, k, &t));
    }
    feeds->emplace_back(inputs_[k].name, std::move(t));
  }
  return Status::Ok();
}

}  // namespace kaiwu::calib
