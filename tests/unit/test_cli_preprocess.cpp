// `kvbench preprocess` reports the grid transformers would produce (goldens.json).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <memory>

#include "e2e/run_kvbench.h"
#include "tests/parity/vision/vision_goldens.h"

namespace {
std::string run(const std::string& args) { return kvb::test::run_kvbench(args).out; }
}  // namespace

TEST(CliPreprocess, SyntheticImageGridMatchesGoldens) {
  // One case (each run starts a process that loads libtorch): 97x213 with a large min_pixels.
  const auto& im = kvb::vision_test::goldens()["images"][0];
  const auto& p = im["processor"][1];
  std::string args = fmt::format("preprocess --synthetic {}x{} --min-pixels {} --max-pixels {} --json",
                                 im["height"].get<int>(), im["width"].get<int>(),
                                 p["min_pixels"].get<int64_t>(), p["max_pixels"].get<int64_t>());
  std::string out = run(args);
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << args << "\n" << out;
  EXPECT_EQ(j["grid_thw"], p["grid_thw"]) << args;
  EXPECT_EQ(j["resized"], p["resized"]) << args;
  auto g = p["grid_thw"].get<std::vector<int64_t>>();
  EXPECT_EQ(j["tokens"].get<int64_t>(), g[0] * g[1] * g[2] / 4) << args;
}

TEST(CliPreprocess, UsageErrors) {
  std::string out = run("preprocess --synthetic 12by40");
  EXPECT_NE(out.find("HEIGHTxWIDTH"), std::string::npos) << out;
}
