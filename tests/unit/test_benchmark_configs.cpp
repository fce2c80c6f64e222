// The committed benchmark configs parse (strict keys) and hold the defaults the code documents.
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/registry.h"
#include "eval/benchmark.h"

TEST(BenchmarkConfigs, CommittedConfigsMatchDefaults) {
  for (const char* name : {"milebench", "needle"}) {
    auto cfg = kvb::read_json_file(std::string(KVB_SOURCE_DIR) + "/configs/benchmarks/" + name + ".json");
    auto& reg = kvb::Registry<kvb::Benchmark>::instance();
    EXPECT_EQ(reg.create(name, cfg)->params(), reg.create(name, kvb::json::object())->params()) << name;
  }
}
