#include "test_util.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

namespace kaiwu::test {

static std::string env_or(const char* k, const std::string& def) {
  const char* v = std::getenv(k);
  return v && *v ? v : def;
}
std::string shared_dir() { return env_or("KAIWU_SHARED", KAIWU_DEFAULT_SHARED); }
std::string source_dir() { return env_or("KAIWU_SOURCE", KAIWU_DEFAULT_SOURCE); }
std::string build_dir() { return env_or("KAIWU_BUILD", KAIWU_DEFAULT_BUILD); }
std::string python() { return env_or("KAIWU_PYTHON", KAIWU_DEFAULT_PYTHON); }
bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

int run_command(const std::string& cmd, std::string* out) {
  std::string full = cmd + " 2>&1";
  FILE* f = ::popen(full.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  out->clear();
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  int rc = ::pclose(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

bool all_close(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why) {
  std::ostringstream os;
  if (a.dtype() != b.dtype()) {
    os << "dtype " << dtype_name(a.dtype()) << " vs " << dtype_name(b.dtype());
    *why = os.str();
    return false;
  }
  if (a.shape() != b.shape()) {
    os << "shape " << shape_to_string(a.shape()) << " vs " << shape_to_string(b.shape());
    *why = os.str();
    return false;
  }
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.get_f64(i), y = b.get_f64(i);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (std::isinf(x) && x == y) continue;
    double d = std::fabs(x - y);
    if (!(d <= atol + rtol * std::fabs(y))) {
      if (first < 0) first = i;
      ++bad;
      worst = std::max(worst, d);
    }
  }
  if (bad) {
    os << bad << " of " << a.numel() << " elements differ; first at " << first << ": " << a.get_f64(first) << " vs "
       << b.get_f64(first) << "; worst abs diff " << worst;
    *why = os.str();
    return false;
  }
  return true;
}

Tensor random_f32(const Shape& s, unsigned seed, float lo, float hi) {
  Tensor t = Tensor::empty(DType::kF32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

}  // namespace kaiwu::test
