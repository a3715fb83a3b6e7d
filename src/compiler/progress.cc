#include "compiler/progress.h"

#include <unistd.h>

#include <algorithm>

namespace kaiwu::compiler {

bool stderr_is_tty() { return ::isatty(2) == 1; }

Progress::Progress(std::string what, bool enabled, bool tty, std::FILE* out)
    : what_(std::move(what)), on_(enabled && tty && out), out_(out), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(size_t done, size_t total) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double s = std::chrono::duration<double>(now - start_).count();
  const double rate = s > 0 ? done / s : 0;
  const double left = rate > 0 && total >= done ? (total - done) / rate : 0;
  char line[256];
  int n = std::snprintf(line, sizeof(line), "%s: %zu/%zu samples, %.1f samples/s, %s %.0f s", what_.c_str(), done,
                        total, rate, done < total ? "ETA" : "done in", done < total ? left : s);
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  // Pad with spaces over a longer previous line.
  std::fprintf(out_, "\r%s%*s", line, static_cast<int>(width_ > len ? width_ - len : 0), "");
  width_ = std::max(width_, len);
  std::fflush(out_);
  drawn_ = true;
}

void Progress::clear() {
  if (!on_ || !drawn_) return;
  std::fprintf(out_, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(out_);
  drawn_ = false;
}

void Progress::finish() {
  if (!on_ || !drawn_) return;
  std::fprintf(out_, "\n");
  std::fflush(out_);
  drawn_ = false;
  on_ = false;
}

}  // namespace kaiwu::compiler
