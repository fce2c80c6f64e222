#pragma once
// How many CPU threads this process was given: what a scheduler or the user allotted, not the
// machine's core count (a Slurm task on a 64-core node may own 4 of them).
#include <string>

namespace kvb {

struct ThreadAllotment {
  int threads = 1;
  std::string source;  // "OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK", "CPU affinity" or "cores"
};

// OMP_NUM_THREADS (its first entry) wins, then SLURM_CPUS_PER_TASK, then the CPU affinity mask,
// then the core count. A set but malformed variable is a UsageError naming it.
ThreadAllotment allotted_threads();

// Runs compute on `threads` threads: torch's intra-op pool and OpenBLAS's own pool, which
// at::set_num_threads does not reach (see core/blas_core.h).
void use_threads(int threads);

}  // namespace kvb
