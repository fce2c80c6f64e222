// GoogleTest's main, after the OpenBLAS kernel check kvbench's own main makes (core/blas_core.h):
// the suite's model tests run at the speed users see.
#include <gtest/gtest.h>

#include "core/blas_core.h"

int main(int argc, char** argv) {
  kvb::restart_with_fast_openblas_kernels(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
