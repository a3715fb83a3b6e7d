#include "kaiwu/status.h"

namespace kaiwu {

std::string Status::to_string() const {
  const char* name = "OK";
  switch (code_) {
    case StatusCode::kOk: name = "OK"; break;
    case StatusCode::kInvalidArgument: name = "invalid argument"; break;
    case StatusCode::kNotFound: name = "not found"; break;
    case StatusCode::kUnsupported: name = "unsupported"; break;
    case StatusCode::kIoError: name = "I/O error"; break;
    case StatusCode::kFailedPrecondition: name = "failed precondition"; break;
    case StatusCode::kInternal: name = "internal error"; break;
  }
  if (ok()) return name;
  return std::string(name) + ": " + message_;
}

}  // namespace kaiwu
