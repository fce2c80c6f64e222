// Every component the paper tables need is registered in the binary (self-registration from
// the OBJECT library survives linking). favor_bench is added here once it lands on main.
#include <gtest/gtest.h>

#include "compress/method.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "models/model.h"

namespace {
template <class Base>
void expect_registered(const std::vector<std::string>& names) {
  const auto& r = kvb::Registry<Base>::instance();
  for (const auto& n : names) EXPECT_TRUE(r.has(n)) << Base::kKind << " '" << n << "' is not registered";
}
}  // namespace

TEST(RegistryNames, MethodsBenchmarksModels) {
  expect_registered<kvb::CompressionMethod>(
      {"full", "streaming_llm", "h2o", "snapkv", "pyramidkv", "adakv", "flashcache", "lookm", "meda", "mixkv"});
  expect_registered<kvb::Benchmark>({"milebench", "vstar", "hrbench", "favor_bench", "needle"});
  expect_registered<kvb::ModelFamily>({"qwen2_5_vl"});
}

TEST(RegistryNames, UnknownNameListsTheKnownOnes) {
  try {
    kvb::Registry<kvb::CompressionMethod>::instance().create("nope", nlohmann::json::object());
    FAIL() << "no error";
  } catch (const kvb::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown method 'nope'; known: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("flashcache"), std::string::npos) << e.what();
  }
}
