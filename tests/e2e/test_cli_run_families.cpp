// `kvbench run` over every model family at once, as a user runs it: the tiny Qwen2.5-VL, LLaVA-1.5
// and LLaVA-OneVision checkpoints in one experiment config (only the model entries differ), and
// their results land in one table.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/run_kvbench.h"
#include "e2e/scratch_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string sh(const std::string& args, int* code) {
  const kvb::test::KvbenchRun r = kvb::test::run_kvbench("-q " + args);
  *code = r.code;
  return r.out;
}

TEST(CliRunFamilies, ThreeFamiliesLandInOneTable) {
  const kvb::test::ScratchDir scratch("kvb_e2e_families_");
  json models = json::array();
  int code = 0;
  for (const char* family : {"qwen2_5_vl", "llava", "llava_onevision"}) {
    const fs::path dir = scratch.path / family;
    const std::string out = sh(std::string("make-tiny-model --family ") + family + " --out " + dir.string(), &code);
    ASSERT_EQ(code, 0) << out;
    models.push_back({{"name", std::string("tiny-") + family}, {"path", dir.string()}});
  }
  const json c = {{"name", "families"},
                  {"rho", {0.5}},
                  {"models", models},
                  {"benchmarks", {{{"name", "needle"}, {"options", {{"samples", 2}, {"min_tokens", 80}, {"max_tokens", 120}}}}}},
                  {"methods", {{{"name", "full"}}, {{"name", "snapkv"}}}},
                  {"generation", {{"max_new_tokens", 3}}},
                  {"tables", {{{"columns", {{{"benchmark", "needle"}}}}}}}};
  const fs::path cfg = scratch.path / "families.json";
  std::ofstream(cfg) << c.dump(2);
  const fs::path results = scratch.path / "results";
  const std::string out = sh("run --no-fsync --config " + cfg.string() + " --results " + results.string(), &code);
  ASSERT_EQ(code, 0) << out;
  const std::string table = sh("table --experiment " + cfg.string() + " --results " + results.string(), &code);
  ASSERT_EQ(code, 0) << table;
  for (const char* m : {"tiny-qwen2_5_vl", "tiny-llava", "tiny-llava_onevision"})
    EXPECT_NE(table.find(m), std::string::npos) << m << " is missing from the table:\n" << table;
}

}  // namespace
