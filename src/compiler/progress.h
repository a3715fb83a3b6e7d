// Progress of a long compile phase (calibration pass, `default` search, cosine evaluation) on stderr.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace kaiwu::compiler {

// True when stderr is a terminal.
bool stderr_is_tty();

// On a terminal: one line rewritten in place ("what: done/total samples, rate/s, ETA"), ended by finish().
// Not a terminal (a log file, a pipe, a test): prints nothing at all; the log records each phase's elapsed time.
class Progress {
 public:
  // `enabled` false prints nothing; `tty` says whether `out` is a terminal (the caller decides: stderr_is_tty()).
  Progress(std::string what, bool enabled, bool tty, std::FILE* out = stderr);
  ~Progress() { finish(); }
  // Reports `done` of `total` units; redraws at most every 100 ms (and always for the last one).
  void update(size_t done, size_t total);
  // Ends the line (once); no-op when nothing was drawn.
  void finish();
  // Erases the drawn line so other output can be printed; the next update() draws it again.
  void clear();
  // Callable as calib::ProgressFn.
  void operator()(size_t done, size_t total) { update(done, total); }

 private:
  std::string what_;
  bool on_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
  size_t width_ = 0;
};

}  // namespace kaiwu::compiler
