#include "kernels/cpu_info.h"

#include <thread>

namespace kaiwu::kernels {

const CpuInfo& cpu_info() {
  static const CpuInfo info = [] {
    CpuInfo c;
#if defined(__x86_64__)
    __builtin_cpu_init();
    c.avx2 = __builtin_cpu_supports("avx2");
    c.fma = __builtin_cpu_supports("fma");
    c.avx512f = __builtin_cpu_supports("avx512f");
    c.avx512bw = __builtin_cpu_supports("avx512bw");
    c.avx512vl = __builtin_cpu_supports("avx512vl");
    c.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
    unsigned n = std::thread::hardware_concurrency();
    c.cores = n ? static_cast<int>(n) : 1;
    return c;
  }();
  return info;
}

std::string host_target() {
  const CpuInfo& c = cpu_info();
  if (c.avx512vnni && c.avx512bw && c.avx512vl) return "x86-avx512vnni";
  if (c.avx2 && c.fma) return "x86-avx2";
  return "generic";
}

}  // namespace kaiwu::kernels
