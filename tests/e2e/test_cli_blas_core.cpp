// OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels on CPUs it does not know (this
// machine's Sapphire Rapids), ~4x slower matrix products; kvbench and this suite restart with
// OPENBLAS_CORETYPE set (core/blas_core.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "core/blas_core.h"
#include "e2e/run_kvbench.h"

namespace {

// "SkylakeX" from "kvbench 0.1.0 (abc), OpenBLAS SkylakeX"; "" when no OpenBLAS is loaded.
std::string reported_core(const std::string& version) {
  const auto at = version.find("OpenBLAS ");
  if (at == std::string::npos) return "";
  const std::string core = version.substr(at + 9);
  return core.substr(0, core.find_first_of(" \n"));
}

bool cpu_has_avx2_fma() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// `kvbench --version` with OPENBLAS_CORETYPE as given (nullopt: unset), as a user's shell has it.
kvb::test::KvbenchRun version_with_coretype(const std::optional<std::string>& coretype) {
  const char* was = std::getenv("OPENBLAS_CORETYPE");
  const std::optional<std::string> saved = was ? std::optional<std::string>(was) : std::nullopt;
  if (coretype) setenv("OPENBLAS_CORETYPE", coretype->c_str(), 1);
  else unsetenv("OPENBLAS_CORETYPE");
  const auto r = kvb::test::run_kvbench("--version");
  if (saved) setenv("OPENBLAS_CORETYPE", saved->c_str(), 1);
  else unsetenv("OPENBLAS_CORETYPE");
  return r;
}

}  // namespace

TEST(BlasCore, VectorKernelsWithoutTheUserSettingAnything) {
  const auto r = version_with_coretype(std::nullopt);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string core = reported_core(r.out);
  // This suite's process went through the same restart, so both name the same kernels.
  EXPECT_EQ(core, kvb::openblas_core()) << r.out;
  if (!core.empty() && cpu_has_avx2_fma()) EXPECT_NE(core, "Prescott") << r.out;
}

TEST(BlasCore, TheUsersChoiceStands) {
  const auto r = version_with_coretype("Prescott");
  ASSERT_EQ(r.code, 0) << r.out;
  if (!std::string(kvb::openblas_core()).empty()) EXPECT_EQ(reported_core(r.out), "Prescott") << r.out;
}
