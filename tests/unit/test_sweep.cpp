// Experiment configs: grid expansion, validation errors (config path + key), shards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "core/error.h"
#include "eval/sweep.h"

using nlohmann::json;

namespace {

const std::map<std::string, std::string> kVars = {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}};

json base() {
  return json::parse(R"({
    "name": "exp", "rho": [0.5, 0.2],
    "models": [{"path": "${models}/Qwen2.5-VL-7B-Instruct", "dtype": "bfloat16"}],
    "benchmarks": [{"name": "test_mean", "data": "${data}/x", "options": {"n": 5}}],
    "methods": [{"name": "test_topk", "grid": {"gamma": [0.1, 0.2]}, "params": {"window": 4}}, {"name": "full"}]
  })");
}

// parse_experiment(cfg) throws a UsageError whose text holds every part.
void expect_usage_error(const json& cfg, const std::vector<std::string>& parts) {
  try {
    kvb::parse_experiment(cfg, "configs/experiments/x.json", kVars);
    FAIL() << "no error for " << cfg.dump();
  } catch (const kvb::UsageError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "missing '" << p << "' in: " << e.what();
  }
}

}  // namespace

TEST(Sweep, ExpandsGridTimesRhoWithFullFirst) {
  auto exp = kvb::parse_experiment(base(), "x.json", kVars);
  EXPECT_EQ(exp.models.at(0).name, "Qwen2.5-VL-7B-Instruct");
  EXPECT_EQ(exp.models[0].path, "/m/Qwen2.5-VL-7B-Instruct");
  EXPECT_EQ(exp.models[0].load_options, json({{"dtype", "bfloat16"}}));
  EXPECT_EQ(exp.benchmarks.at(0).data, "/d/x");
  EXPECT_EQ(exp.results_root, "/r");
  std::vector<std::string> dirs;
  for (const auto& c : exp.cells) dirs.push_back(c.dir);
  EXPECT_EQ(dirs, (std::vector<std::string>{"full", "test_topk-rho0.5-gamma=0.1-window=4",
                                            "test_topk-rho0.2-gamma=0.1-window=4",
                                            "test_topk-rho0.5-gamma=0.2-window=4",
                                            "test_topk-rho0.2-gamma=0.2-window=4"}));
  EXPECT_DOUBLE_EQ(exp.cells[0].rho, 1.0);
  EXPECT_EQ(exp.cells[3].params, json({{"gamma", 0.2}, {"window", 4}}));
  EXPECT_EQ(exp.cells[3].grid_point, json({{"gamma", 0.2}}));
  EXPECT_EQ(exp.full_cell(), &exp.cells[0]);
}

TEST(Sweep, AllExpandsToEveryRegisteredMethod) {
  json cfg = base();
  cfg["methods"] = json::parse(R"([{"name": "all", "rho": 0.1}])");
  auto exp = kvb::parse_experiment(cfg, "x.json", kVars);
  EXPECT_TRUE(exp.cells.at(0).is_full());
  bool topk = false;
  for (const auto& c : exp.cells) topk |= c.dir == "test_topk-rho0.1";
  EXPECT_TRUE(topk);
}

TEST(Sweep, ErrorsNameConfigAndKey) {
  const std::string src = "configs/experiments/x.json";
  json cfg = base();
  cfg["methods"][0]["name"] = "nope";
  expect_usage_error(cfg, {src, "methods[0].name", "unknown method 'nope'", "test_topk"});
  cfg = base();
  cfg["methods"][0]["params"]["windw"] = 3;
  expect_usage_error(cfg, {src, "methods[0]", "unknown key 'windw'", "gamma, window"});
  cfg = base();
  cfg["methods"][0]["params"]["window"] = "big";
  expect_usage_error(cfg, {src, "methods[0]", "'window' must be an integer"});
  cfg = base();
  cfg["methods"][0]["rho"] = {0.5, 1.5};
  expect_usage_error(cfg, {src, "methods[0].rho", "1.5 is outside (0, 1]"});
  cfg = base();
  cfg["rho"] = {0};
  expect_usage_error(cfg, {src, ": rho", "0 is outside (0, 1]"});
  cfg = base();
  cfg["metods"] = json::array();
  expect_usage_error(cfg, {src, "unknown key 'metods'"});
  cfg = base();
  cfg["benchmarks"][0]["name"] = "nobench";
  expect_usage_error(cfg, {src, "benchmarks[0].name", "unknown benchmark 'nobench'"});
  cfg = base();
  cfg["benchmarks"][0]["options"]["size"] = 3;
  expect_usage_error(cfg, {src, "benchmarks[0].options", "unknown key 'size'"});
  cfg = base();
  cfg["models"][0]["path"] = "${weights}/q";
  expect_usage_error(cfg, {src, ".models[0].path", "${weights}", "KVB_WEIGHTS"});
  cfg = base();
  cfg["tables"] = json::parse(R"([{"columns": [{"benchmark": "missing"}]}])");
  expect_usage_error(cfg, {src, "no benchmark with id 'missing'"});
  cfg = base();
  cfg["methods"][0].erase("grid");
  cfg.erase("rho");
  expect_usage_error(cfg, {src, "methods[0].rho: missing"});
}

TEST(Sweep, PathVariablesFromEnvironment) {
  ::setenv("KVB_WEIGHTS", "/w", 1);
  json cfg = base();
  cfg["models"][0]["path"] = "${weights}/q";
  EXPECT_EQ(kvb::parse_experiment(cfg, "x.json", kVars).models[0].path, "/w/q");
  ::unsetenv("KVB_WEIGHTS");
}

TEST(Sweep, ShardsPartitionTheSamples) {
  EXPECT_THROW(kvb::parse_shard("0/3"), kvb::UsageError);
  EXPECT_THROW(kvb::parse_shard("4/3"), kvb::UsageError);
  EXPECT_THROW(kvb::parse_shard("1-3"), kvb::UsageError);
  try {
    kvb::parse_shard("1/99999999999");
    ADD_FAILURE() << "no error";
  } catch (const kvb::UsageError& e) {
    EXPECT_STREQ(e.what(), "--shard '1/99999999999': i and n must be at most 999999999");
  }
  for (int64_t limit : {0, 20}) {
    std::vector<int> seen(37, 0);
    for (int i = 1; i <= 3; ++i) {
      auto s = kvb::parse_shard(fmt::format("{}/3", i));
      EXPECT_EQ(s.index, i - 1);
      for (size_t p : kvb::shard_positions(37, limit, s)) ++seen.at(p);
    }
    for (size_t p = 0; p < seen.size(); ++p) EXPECT_EQ(seen[p], limit == 0 || p < 20 ? 1 : 0) << p;
  }
  EXPECT_EQ(kvb::shard_positions(5, 0, {}), (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(Sweep, NamesSharingAResultFolderAreErrors) {
  json cfg = base();
  cfg["models"] = json::parse(R"([{"name": "a/b", "path": "/m/1"}, {"name": "a_b", "path": "/m/2"}])");
  expect_usage_error(cfg, {"models[1].name", "'a_b' and 'a/b'", "models[0].name", "same result folder 'a_b'"});
  cfg = base();
  cfg["benchmarks"] = json::parse(R"([{"name": "test_mean", "id": "x y"}, {"name": "test_mean", "id": "x_y"}])");
  expect_usage_error(cfg, {"benchmarks[1].id", "same result folder 'x_y'"});
  cfg = base();
  cfg["benchmarks"][0]["id"] = "m.shard1of2";
  expect_usage_error(cfg, {"benchmarks[0].id", "'.shard'"});
  // Two labelled entries of one method, same settings: one folder, so a clash.
  cfg = base();
  cfg["methods"] = json::parse(R"([{"name": "test_topk", "label": "A"}, {"name": "test_topk", "label": "B"}])");
  expect_usage_error(cfg, {"methods[1]", "methods[0]", "share the result folder 'test_topk-rho0.5'", "'B', 'A'"});
}

TEST(Sweep, ValuesBelowPrintPrecisionGetTheirOwnCells) {
  json cfg = base();
  cfg["rho"] = {0.1, 0.1000001};
  cfg["methods"] = json::parse(R"([{"name": "test_topk", "grid": {"gamma": [0.3, 0.3000001]}}])");
  auto exp = kvb::parse_experiment(cfg, "x.json", kVars);
  std::set<std::string> dirs;
  for (const auto& c : exp.cells) dirs.insert(c.dir);
  EXPECT_EQ(dirs, (std::set<std::string>{"test_topk-rho0.1-gamma=0.3", "test_topk-rho0.1-gamma=0.3000001",
                                         "test_topk-rho0.1000001-gamma=0.3", "test_topk-rho0.1000001-gamma=0.3000001"}));
  // "all" next to an explicit "full" is the same cell, not a clash.
  cfg["methods"] = json::parse(R"([{"name": "full"}, {"name": "all"}])");
  EXPECT_EQ(kvb::parse_experiment(cfg, "x.json", kVars).cells.at(1).is_full(), false);
}
