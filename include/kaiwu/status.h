// Status: the result of an operation that can fail for an expected reason (bad input, unsupported op, I/O).
#pragma once
#include <string>
#include <utility>

namespace kaiwu {

enum class StatusCode { kOk = 0, kInvalidArgument, kNotFound, kUnsupported, kIoError, kFailedPrecondition, kInternal };

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Returns a copy whose message is prefixed with `context: `.
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status not_found(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status io_error(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
inline Status failed_precondition(std::string m) { return Status(StatusCode::kFailedPrecondition, std::move(m)); }
inline Status internal_error(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

}  // namespace kaiwu

#define KW_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::kaiwu::Status kw_status_ = (expr);          \
    if (!kw_status_.ok()) return kw_status_;      \
  } while (0)

#define KW_CHECK_ARG(cond, msg)                                        \
  do {                                                                 \
    if (!(cond)) return ::kaiwu::invalid_argument(msg);                \
  } while (0)
