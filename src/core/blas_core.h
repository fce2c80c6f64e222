#pragma once
// OpenBLAS 0.3.21 (Debian bookworm) does not know recent Intel models (this machine's Sapphire
// Rapids reports "Intel(R) Xeon(R) Processor") and falls back to its SSE3 "Prescott" kernels:
// sgemm ran 3.9x slower than with its AVX-512 kernels (window-attention GEMM, 7B geometry, 2K
// tokens: 427 vs 110 ms). The core is chosen when the library loads, from OPENBLAS_CORETYPE, so
// the fix is a restart with that variable set.

namespace kvb {

// When OpenBLAS is loaded, OPENBLAS_CORETYPE is unset, OpenBLAS picked Prescott and the CPU has
// AVX-512 (SkylakeX kernels) or AVX2 + FMA (Haswell kernels): sets the variable and re-executes
// this program with the same arguments. Otherwise (another BLAS, a known CPU, the variable set by
// the user) returns and nothing changes. Call first thing in main().
void restart_with_fast_openblas_kernels(char** argv);

// OpenBLAS's own thread pool, which at::set_num_threads leaves at the core count: with
// --threads 1 its idle worker spun in sched_yield on the other core (~30 % of a core, half a
// million context switches a second), and two single-thread runs side by side each ran at 40 %
// of their speed alone. No-op when OpenBLAS is not loaded.
void set_openblas_threads(int threads);
// OpenBLAS's thread count, or 0 when OpenBLAS is not loaded.
int openblas_threads();

// The kernel set OpenBLAS uses ("SkylakeX", "Prescott", ...), or "" when OpenBLAS is not loaded.
const char* openblas_core();

}  // namespace kvb
