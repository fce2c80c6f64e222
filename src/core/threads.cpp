#include "core/threads.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "core/blas_core.h"
#include "core/error.h"

namespace kvb {
namespace {

// A positive thread count from an environment variable; 0 when unset or empty.
int env_count(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  std::string s(v);
  s = s.substr(0, s.find(','));  // OMP_NUM_THREADS may list one count per nesting level
  const bool digits = !s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(s) < 1)
    throw UsageError(fmt::format("environment variable {}='{}' is not a positive thread count", name, v));
  return std::stoi(s);
}

}  // namespace

ThreadAllotment allotted_threads() {
  if (int n = env_count("OMP_NUM_THREADS")) return {n, "OMP_NUM_THREADS"};
  if (int n = env_count("SLURM_CPUS_PER_TASK")) return {n, "SLURM_CPUS_PER_TASK"};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return {CPU_COUNT(&set), "CPU affinity"};
  return {static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), "cores"};
}

void use_threads(int threads) {
  at::set_num_threads(threads);
  set_openblas_threads(threads);
}

}  // namespace kvb
