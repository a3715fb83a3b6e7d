// File helpers: whole-file reads and atomic writes (temp file in the same folder, fsync, rename).
#pragma once
#include <string>

#include "kaiwu/status.h"

namespace kaiwu {

Status read_file(const std::string& path, std::string* out);
// Writes `data` to `path` atomically: readers see the old file or the whole new one, never a partial file.
Status write_file_atomic(const std::string& path, const std::string& data);

}  // namespace kaiwu
