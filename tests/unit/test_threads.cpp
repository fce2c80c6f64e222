// The default thread count follows the allotment (OMP_NUM_THREADS, Slurm, affinity), not the
// machine's core count.
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "core/blas_core.h"
#include "core/threads.h"
#include "error_text.h"

namespace kvb {
namespace {

// Sets (or unsets) an environment variable for one scope.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~EnvVar() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(AllottedThreads, OmpNumThreadsWinsThenSlurmThenAffinity) {
  {
    EnvVar omp("OMP_NUM_THREADS", "3"), slurm("SLURM_CPUS_PER_TASK", "5");
    EXPECT_EQ(allotted_threads().threads, 3);
    EXPECT_EQ(allotted_threads().source, "OMP_NUM_THREADS");
  }
  {
    EnvVar omp("OMP_NUM_THREADS", "7,2"), slurm("SLURM_CPUS_PER_TASK", nullptr);
    EXPECT_EQ(allotted_threads().threads, 7);  // the outermost nesting level
  }
  {
    EnvVar omp("OMP_NUM_THREADS", nullptr), slurm("SLURM_CPUS_PER_TASK", "5");
    EXPECT_EQ(allotted_threads().threads, 5);
    EXPECT_EQ(allotted_threads().source, "SLURM_CPUS_PER_TASK");
  }
  {
    EnvVar omp("OMP_NUM_THREADS", nullptr), slurm("SLURM_CPUS_PER_TASK", nullptr);
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_EQ(allotted_threads().threads, CPU_COUNT(&set));
    EXPECT_EQ(allotted_threads().source, "CPU affinity");
  }
}

TEST(AllottedThreads, MalformedVariablesAreUsageErrors) {
  for (const char* bad : {"x", "0", "-2", "99999999999"}) {
    EnvVar omp("OMP_NUM_THREADS", bad);
    EXPECT_NE(test::error_text([] { allotted_threads(); }).find("OMP_NUM_THREADS"), std::string::npos) << bad;
  }
}

// OpenBLAS keeps its own pool at the core count unless told: its idle worker then spins on the
// cores a --threads 1 run leaves to others. Where libtorch uses another BLAS (MKL in PyTorch's own
// builds), the setter must do nothing and the getter say 0.
TEST(OpenBlasThreads, FollowTheAllotment) {
  if (openblas_core()[0] == '\0') {
    set_openblas_threads(1);
    EXPECT_EQ(openblas_threads(), 0);
    return;
  }
  const int before = openblas_threads();
  set_openblas_threads(1);
  EXPECT_EQ(openblas_threads(), 1);
  set_openblas_threads(2);
  EXPECT_EQ(openblas_threads(), 2);
  set_openblas_threads(before);
}

}  // namespace
}  // namespace kvb
