// The experiment runner on a fake model (deterministic answers, logprobs and timings): records,
// resume after SIGKILL, shards. The table of an interrupted+resumed run must equal an
// uninterrupted run's, and the shards' union must equal the unsharded records.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "eval/result_store.h"
#include "eval/runner.h"
#include "eval/table.h"
#include "tests/unit/error_text.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// First-token logits of the fake model at retention ratio r.
std::vector<double> fake_logits(double r) { return {0.0, r, 2 * r, 1.0}; }

class FakeModel : public kvb::Model {
 public:
  explicit FakeModel(int delay_us) : delay_us_(delay_us) {}
  kvb::GenerationResult generate(const std::vector<kvb::Message>& messages, const kvb::GenerationOptions& o,
                                 kvb::CompressionMethod&) override {
    if (delay_us_) ::usleep(delay_us_);
    const std::string& text = messages.back().content.back().text;  // "question {i}"
    const int i = std::stoi(text.substr(text.find(' ') + 1));
    kvb::GenerationResult r;
    const bool right = o.ratio == 1.0 || (i + static_cast<int>(std::lround(o.ratio * 10))) % 2 == 0;
    r.text = right ? fmt::format("a{}", i % 3) : "wrong";
    r.prompt_tokens = 100 + i;
    r.kept_tokens = std::lround(o.ratio * (100 + i));
    r.compress_ms = o.ratio;
    r.decode_ms = {3, 1, 2};
    r.stop_reason = "eos";
    if (o.return_first_logprobs) {
      auto l = fake_logits(o.ratio);
      double z = 0;
      for (double x : l) z += std::exp(x);
      for (double x : l) r.first_token_logprobs.push_back(static_cast<float>(x - std::log(z)));
    }
    return r;
  }
  kvb::PrefillCapture capture_prefill(const std::vector<kvb::Message>&, const kvb::Needs&) override {
    throw kvb::Error("fake model: no prefill capture");
  }
  kvb::ModelGeometry geometry() const override { return {}; }
  std::string family() const override { return "fake"; }
  // One token per byte.
  std::vector<int64_t> encode_text(const std::string& text) const override { return std::vector<int64_t>(text.size(), 7); }
  json describe() const override { return {{"family", "fake"}}; }

 private:
  int delay_us_;
};

const std::map<std::string, std::string> kVars = {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}};

kvb::Experiment experiment(const fs::path& root) {
  auto exp = kvb::parse_experiment(json::parse(R"({
    "name": "fake", "rho": [0.5, 0.2],
    "models": [{"name": "m", "path": "/fake"}],
    "benchmarks": [{"name": "test_mean", "options": {"n": 37, "groups": 3}}],
    "methods": [{"name": "full"}, {"name": "test_topk", "grid": {"gamma": [0.1]}}],
    "tables": [{"bootstrap": 50, "columns": [{"benchmark": "test_mean"}, {"benchmark": "test_mean", "metric": "agree_full", "scale": 100},
                                             {"benchmark": "test_mean", "metric": "kl_full", "digits": 4}]}]})"),
                                   "fake.json", kVars);
  exp.results_root = root.string();
  return exp;
}

kvb::ModelLoader loader(int delay_us = 0) {
  return [delay_us](const kvb::ModelSpec&) { return std::make_unique<FakeModel>(delay_us); };
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("kvb_run_{}_{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // (cell, id) -> prediction over every record file of the experiment.
  static std::map<std::string, std::string> all_records(const kvb::Experiment& exp, size_t* lines = nullptr) {
    std::map<std::string, std::string> out;
    size_t n = 0;
    for (const auto& c : exp.cells) {
      kvb::ResultPath p{exp.results_root, exp.name, "m", c.dir, "test_mean"};
      for (const auto& f : fs::directory_iterator(p.dir()))
        for (const auto& r : kvb::read_records(f.path().string())) {
          out[c.dir + "/" + r["id"].get<std::string>()] = r["prediction"];
          ++n;
        }
    }
    if (lines) *lines = n;
    return out;
  }

  fs::path dir_;
};

}  // namespace

TEST_F(RunnerTest, RecordsEveryCellAndSkipsOnRerun) {
  auto exp = experiment(dir_);
  auto s = kvb::run_experiment(exp, {}, loader());
  EXPECT_EQ(s.ran, 3 * 37);
  kvb::ResultPath p{exp.results_root, "fake", "m", "test_topk-rho0.2-gamma=0.1", "test_mean"};
  auto recs = kvb::read_records(p.file());
  ASSERT_EQ(recs.size(), 37u);
  const json& r = recs[4];  // sample 4: (4 + 2) % 2 == 0 -> right answer "a1"
  EXPECT_EQ(r["id"], "s4");
  EXPECT_EQ(r["prediction"], "a1");
  EXPECT_EQ(r["score"], 1.0);
  EXPECT_EQ(r["agree_full"], true);
  EXPECT_EQ(r["kept_tokens"], 21);  // round(0.2 * 104)
  EXPECT_EQ(r["decode_ms_median"], 2.0);
  EXPECT_EQ(r["decode_steps"], 3);
  EXPECT_EQ(r["rho"], 0.2);
  // KL(softmax(l_full) || softmax(l_0.2)) written out from the definition.
  auto softmax = [](std::vector<double> l) {
    double z = 0;
    for (double x : l) z += std::exp(x);
    for (double& x : l) x = std::exp(x) / z;
    return l;
  };
  auto pf = softmax(fake_logits(1.0)), pq = softmax(fake_logits(0.2));
  double kl = 0;
  for (size_t i = 0; i < pf.size(); ++i) kl += pf[i] * std::log(pf[i] / pq[i]);
  EXPECT_NEAR(r["kl_full"].get<double>(), kl, 1e-6);
  EXPECT_EQ(kvb::read_records(p.file())[3]["agree_full"], false);
  EXPECT_TRUE(fs::exists(dir_ / "fake/run.json"));
  // Every number a record carries is a metric a table column may name, and nothing else is.
  std::set<std::string> numeric;
  for (const auto& [k, v] : r.items())
    if (v.is_number() || v.is_boolean()) numeric.insert(k);
  const auto& known = kvb::table_metrics();
  EXPECT_EQ(numeric, std::set<std::string>(known.begin(), known.end()));

  s = kvb::run_experiment(exp, {}, loader());
  EXPECT_EQ(s.ran, 0);
  EXPECT_EQ(s.skipped, 3 * 37);
}

TEST_F(RunnerTest, KilledRunResumesToTheUninterruptedTable) {
  auto killed = experiment(dir_ / "killed");
  auto clean = experiment(dir_ / "clean");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    kvb::run_experiment(killed, {}, loader(20000));
    ::_exit(0);
  }
  const fs::path full = fs::path(killed.results_root) / "fake/m/full/test_mean.jsonl";
  int status = 0;
  while (!fs::exists(full) || kvb::read_records(full.string()).size() < 5) {
    ASSERT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the child run ended early";
    ::usleep(2000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before the kill";
  size_t before = 0;
  all_records(killed, &before);
  ASSERT_LT(before, 3u * 37);

  kvb::run_experiment(killed, {}, loader());
  kvb::run_experiment(clean, {}, loader());
  size_t lines = 0;
  EXPECT_EQ(all_records(killed, &lines), all_records(clean));
  EXPECT_EQ(lines, 3u * 37);  // exactly one record per (cell, sample)
  EXPECT_EQ(kvb::render_tables(killed, kvb::result_store_source(killed), "md"),
            kvb::render_tables(clean, kvb::result_store_source(clean), "md"));
}

TEST_F(RunnerTest, ShardUnionEqualsUnshardedRun) {
  auto sharded = experiment(dir_ / "sharded");
  auto whole = experiment(dir_ / "whole");
  for (int i = 1; i <= 3; ++i) {
    kvb::RunOptions o;
    o.shard = kvb::parse_shard(fmt::format("{}/3", i));
    kvb::run_experiment(sharded, o, loader());
  }
  kvb::run_experiment(whole, {}, loader());
  size_t lines = 0;
  EXPECT_EQ(all_records(sharded, &lines), all_records(whole));
  EXPECT_EQ(lines, 3u * 37);
  EXPECT_TRUE(fs::exists(fs::path(sharded.results_root) / "fake/m/full/test_mean.shard2of3.jsonl"));
  EXPECT_EQ(kvb::render_tables(sharded, kvb::result_store_source(sharded), "md"),
            kvb::render_tables(whole, kvb::result_store_source(whole), "md"));
}

TEST_F(RunnerTest, BenchmarkCountsTokensWithTheModelsTokenizer) {
  auto exp = experiment(dir_);
  exp.benchmarks[0].options["token_groups"] = true;
  exp.benchmarks[0].options["n"] = 11;
  exp.cells.resize(1);
  kvb::run_experiment(exp, {}, loader());
  kvb::ResultPath p{exp.results_root, "fake", "m", exp.cells[0].dir, "test_mean"};
  const auto recs = kvb::read_records(p.file());
  ASSERT_EQ(recs.size(), 11u);
  EXPECT_EQ(recs[9]["group"], "tok10");   // "question 9": 10 bytes
  EXPECT_EQ(recs[10]["group"], "tok11");  // "question 10"
}

TEST_F(RunnerTest, ChangedSettingsAreRefusedAndRunJsonKeepsDescribingTheRecords) {
  auto exp = experiment(dir_);
  kvb::run_experiment(exp, {}, loader());
  const std::string run_json = (dir_ / "fake/run.json").string();
  const json before = kvb::read_json_file(run_json);
  // Resolved parameters, the method's default window included, in records and run.json.
  kvb::ResultPath p{exp.results_root, "fake", "m", "test_topk-rho0.5-gamma=0.1", "test_mean"};
  EXPECT_EQ(kvb::read_records(p.file()).at(0)["params"], json({{"gamma", 0.1}, {"window", 8}}));
  EXPECT_EQ(before["cells"].at(1)["params"], json({{"gamma", 0.1}, {"window", 8}}));
  EXPECT_EQ(before["benchmarks"]["test_mean"]["options"]["groups"], 3);

  auto changed = [&](auto edit, const std::string& what) {
    auto e = experiment(dir_);
    edit(e);
    const std::string text = kvb::test::error_text([&] { kvb::run_experiment(e, {}, loader()); });
    EXPECT_NE(text.find(what), std::string::npos) << text;
    EXPECT_NE(text.find("full/test_mean.jsonl"), std::string::npos) << text;
    EXPECT_EQ(kvb::read_json_file(run_json)["config"], before["config"]);
  };
  changed([](kvb::Experiment& e) { e.benchmarks[0].options["groups"] = 2; },
          "/benchmark/options/groups: recorded 3, now 2");
  changed([](kvb::Experiment& e) { e.models[0].load_options["dtype"] = "bfloat16"; },
          "/model/load/dtype: recorded (absent), now \"bfloat16\"");
  changed([](kvb::Experiment& e) { e.models[0].path = "/other"; }, "/model/path");
  changed([](kvb::Experiment& e) { e.max_new_tokens = 5; }, "/generation/max_new_tokens: recorded 32, now 5");
  EXPECT_EQ(kvb::run_experiment(exp, {}, loader()).skipped, 3 * 37);
}

TEST_F(RunnerTest, RerunWithAnotherShardingSkipsWhatIsRecorded) {
  auto exp = experiment(dir_);
  for (int i = 1; i <= 3; ++i) {
    kvb::RunOptions o;
    o.shard = kvb::parse_shard(fmt::format("{}/3", i));
    kvb::run_experiment(exp, o, loader());
  }
  auto s = kvb::run_experiment(exp, {}, loader());
  EXPECT_EQ(s.ran, 0);
  EXPECT_EQ(s.skipped, 3 * 37);
  kvb::RunOptions half;
  half.shard = kvb::parse_shard("1/2");
  EXPECT_EQ(kvb::run_experiment(exp, half, loader()).ran, 0);
}

TEST(RunnerMath, MedianAndKl) {
  EXPECT_DOUBLE_EQ(kvb::median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(kvb::median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(kvb::median({})));
  EXPECT_TRUE(std::isnan(kvb::kl_divergence({0.f}, {})));
  const float lh = std::log(0.5f);
  EXPECT_NEAR(kvb::kl_divergence({lh, lh}, {lh, lh}), 0.0, 1e-9);
  // KL([1/2, 1/2] || [1/4, 3/4]) = 1/2 ln 2 + 1/2 ln(2/3)
  EXPECT_NEAR(kvb::kl_divergence({lh, lh}, {std::log(0.25f), std::log(0.75f)}), 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3),
              1e-6);
}
