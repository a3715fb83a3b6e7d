// Reading and writing numpy .npy files (format 1.0-3.0, little-endian, C order) and raw .bin files.
#pragma once
#include <string>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu {

// Reads an .npy file. Refuses Fortran-ordered, object, big-endian and truncated files with a message naming `path`.
Status read_npy(const std::string& path, Tensor* out);
// Parses .npy bytes already in memory; `origin` names the source in messages.
Status parse_npy(const std::string& bytes, const std::string& origin, Tensor* out);
// Writes an .npy file (format 1.0) atomically.
Status write_npy(const std::string& path, const Tensor& t);
// Serializes a tensor as .npy bytes.
std::string npy_bytes(const Tensor& t);
// Reads a raw file (np.tofile) as `dtype` with `shape`; the file size must match exactly.
Status read_raw(const std::string& path, DType dtype, const Shape& shape, Tensor* out);

}  // namespace kaiwu
