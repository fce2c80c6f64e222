// Every shipped experiment config validates against the registries (method and benchmark names
// and their keys, ρ ranges, table specs) before anyone runs it on a GPU.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/sweep.h"

namespace fs = std::filesystem;

TEST(ExperimentConfigs, AllShippedConfigsValidate) {
  const fs::path dir = fs::path(KVB_SOURCE_DIR) / "configs/experiments";
  std::vector<std::string> expected = {"dba_ablation",     "demo",      "gamma_ablation", "highres_rho0.05",
                                       "latency",          "milebench_rho0.2", "milebench_rho0.2_llava_onevision",
                                       "organism",         "rho_sweep",        "rho_sweep_llava_onevision", "video"};
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) found.push_back(e.path().stem().string());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, expected);
  for (const auto& name : found) {
    const std::string path = (dir / (name + ".json")).string();
    // A config whose benchmark is not registered yet must fail naming exactly that benchmark.
    std::string missing;
    const nlohmann::json cfg = kvb::read_json_file(path);
    for (const auto& b : cfg["benchmarks"])
      if (!kvb::Registry<kvb::Benchmark>::instance().has(b["name"].get<std::string>())) missing = b["name"];
    try {
      auto exp = kvb::load_experiment(path);
      EXPECT_TRUE(missing.empty()) << path;
      EXPECT_EQ(exp.name, name);
      EXPECT_FALSE(exp.cells.empty()) << path;
    } catch (const kvb::UsageError& e) {
      EXPECT_FALSE(missing.empty()) << e.what();
      EXPECT_NE(std::string(e.what()).find("unknown benchmark '" + missing + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(ExperimentConfigs, PaperGridsHaveTheRightCells) {
  const fs::path dir = fs::path(KVB_SOURCE_DIR) / "configs/experiments";
  auto gamma = kvb::load_experiment((dir / "gamma_ablation.json").string());
  ASSERT_EQ(gamma.cells.size(), 6u);
  EXPECT_EQ(gamma.cells[0].dir, "flashcache-rho0.2-gamma=0.1");
  auto dba = kvb::load_experiment((dir / "dba_ablation.json").string());
  ASSERT_EQ(dba.cells.size(), 2u);
  EXPECT_EQ(dba.cells[0].dir, "flashcache-rho0.2-dba=false");
  auto mile = kvb::load_experiment((dir / "milebench_rho0.2.json").string());
  EXPECT_EQ(mile.cells.size(), 7u);
  EXPECT_TRUE(mile.cells[0].is_full());
  // A family is switched by the model entry alone: the OneVision twins differ in nothing else.
  for (const char* base : {"milebench_rho0.2", "rho_sweep"}) {
    nlohmann::json a = kvb::read_json_file((dir / (std::string(base) + ".json")).string());
    nlohmann::json b = kvb::read_json_file((dir / (std::string(base) + "_llava_onevision.json")).string());
    EXPECT_EQ(b["models"][0]["name"], "llava-onevision-7b");
    for (auto* j : {&a, &b}) {
      for (const char* k : {"name", "description", "models"}) j->erase(k);
      (*j)["tables"][0].erase("title");
    }
    EXPECT_EQ(a, b) << base;
  }
  // The organism's table: the demo's methods and ratios on 30 held-out samples per needle task.
  auto organism = kvb::load_experiment((dir / "organism.json").string());
  EXPECT_EQ(kvb::read_json_file((dir / "organism.json").string())["benchmarks"][0]["options"]["samples"], 90);
  auto demo = kvb::load_experiment((dir / "demo.json").string());
  // every registered method at 4 ratios (Full once): at least full + 9 methods x 4
  EXPECT_GE(demo.cells.size(), 37u);
  EXPECT_EQ(organism.cells.size(), demo.cells.size());
}
