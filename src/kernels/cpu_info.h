// What the processor offers, detected at run time.
#pragma once
#include <string>

namespace kaiwu::kernels {

struct CpuInfo {
  bool avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
  int cores = 1;
};
const CpuInfo& cpu_info();
// "x86-avx512vnni", "x86-avx2" or "generic": the best target this host runs.
std::string host_target();

}  // namespace kaiwu::kernels
