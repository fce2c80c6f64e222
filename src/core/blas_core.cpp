#include "core/blas_core.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kvb {

const char* openblas_core() {
  // Looked up at run time: the BLAS behind libtorch is whatever libblas.so.3 points to (or MKL
  // in PyTorch's own builds), so the symbol may be absent.
  using CoreName = char* (*)();
  const auto name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return name ? name() : "";
}

void set_openblas_threads(int threads) {
  using SetThreads = void (*)(int);
  const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set) set(threads);
}

int openblas_threads() {
  using GetThreads = int (*)();
  const auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

void restart_with_fast_openblas_kernels(char** argv) {
#if defined(__x86_64__)
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::strcmp(openblas_core(), "Prescott") != 0) return;
  __builtin_cpu_init();
  const char* core = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    core = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    core = "Haswell";
  if (!core) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);
  // Still here: the restart failed; run on with the slow kernels and say so.
  std::fprintf(stderr, "kvbench: warning: OpenBLAS uses its SSE3 kernels on this CPU and restarting with "
               "OPENBLAS_CORETYPE=%s failed (%s); set it yourself for ~4x faster matrix products\n", core,
               std::strerror(errno));
#else
  (void)argv;
#endif
}

}  // namespace kvb
