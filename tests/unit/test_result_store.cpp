// Result store: append-only jsonl that survives kills, resume by sample id, run.json.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/version.h"
#include "tests/unit/error_text.h"
#include "eval/result_store.h"
#include <torch/version.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ResultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("kvb_rs_{}_{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

json record(int i, size_t pad = 10) {
  return {{"id", fmt::format("s{:03d}", i)}, {"score", i % 2}, {"prediction", std::string(pad, 'a' + i % 26)}};
}

// The record file of benchmark `bench` in one cell folder under `root`.
kvb::ResultPath cell_file(const fs::path& root, const std::string& bench, int shard = 0, int shards = 1) {
  return {root.string(), "e", "m", "cell", bench, shard, shards};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_F(ResultStoreTest, PathsAreStableAndSafe) {
  kvb::ResultPath p{dir_.string(), "milebench_rho0.2", "Qwen2.5-VL-7B-Instruct", "snapkv-rho=0.2", "milebench"};
  EXPECT_EQ(p.file(), (dir_ / "milebench_rho0.2/Qwen2.5-VL-7B-Instruct/snapkv-rho=0.2/milebench.jsonl").string());
  p.shard = 1;
  p.shards = 3;
  EXPECT_EQ(fs::path(p.file()).filename(), "milebench.shard2of3.jsonl");
  EXPECT_EQ(kvb::path_component("a/b c"), "a_b_c");
  EXPECT_EQ(kvb::path_component(".."), "_..");
  EXPECT_EQ(kvb::path_component(""), "_");
}

TEST_F(ResultStoreTest, TruncatedMidLineThenResume) {
  const auto where = cell_file(dir_, "bench");
  const std::string path = where.file();
  {
    kvb::ResultWriter w(where);
    for (int i = 0; i < 5; ++i) w.append(record(i));
    EXPECT_EQ(w.done_ids().size(), 5u);
  }
  // A kill in the middle of the fifth record's write().
  fs::resize_file(path, fs::file_size(path) - 7);
  auto recs = kvb::read_records(path);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[3], record(3));
  {
    kvb::ResultWriter w(where);  // resume: cuts the broken tail, knows s000..s003
    EXPECT_EQ(w.done_ids(), (std::set<std::string>{"s000", "s001", "s002", "s003"}));
    for (int i = 0; i < 7; ++i)
      if (!w.done_ids().count(record(i)["id"])) w.append(record(i));
  }
  recs = kvb::read_records(path);
  ASSERT_EQ(recs.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(recs[i], record(i)) << i;
  std::string text = slurp(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7);
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(ResultStoreTest, SigkillWhileWritingLeavesCompleteRecords) {
  const auto where = cell_file(dir_, "kill");
  const std::string path = where.file();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // big records make a kill inside a write() likely
    kvb::ResultWriter w(where, /*durable=*/false);
    for (int i = 0;; ++i) w.append(record(i, 1 << 16));
  }
  while (!fs::exists(path) || fs::file_size(path) < (1u << 20)) ::usleep(1000);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto recs = kvb::read_records(path);
  ASSERT_GE(recs.size(), 10u);
  for (size_t i = 0; i < recs.size(); ++i) ASSERT_EQ(recs[i], record(static_cast<int>(i), 1 << 16)) << i;
  kvb::ResultWriter w(where);
  EXPECT_EQ(w.done_ids().size(), recs.size());
  w.append(record(100000));
  EXPECT_EQ(kvb::read_records(path).size(), recs.size() + 1);
}

TEST_F(ResultStoreTest, BrokenMiddleLineIsAnErrorNamingFileAndLine) {
  fs::create_directories(dir_);
  const std::string path = (dir_ / "bad.jsonl").string();
  std::ofstream(path) << record(0).dump() << "\n{\"id\": oops\n" << record(1).dump() << "\n";
  try {
    kvb::read_records(path);
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
  }
}

TEST_F(ResultStoreTest, SecondWriterIsRefusedAndRecordsNeedIds) {
  const auto where = cell_file(dir_, "x");
  const std::string path = where.file();
  kvb::ResultWriter a(where);
  EXPECT_THROW(kvb::ResultWriter b(where), kvb::Error);
  EXPECT_THROW(a.append(json{{"score", 1}}), kvb::Error);
  a.append({{"id", "u"}, {"prediction", std::string("caf\xc3", 4)}});  // cut UTF-8: replaced, not thrown
  EXPECT_EQ(kvb::read_records(path).at(0)["prediction"], "caf\xef\xbf\xbd");
  EXPECT_TRUE(kvb::read_records((dir_ / "missing.jsonl").string()).empty());
}

TEST_F(ResultStoreTest, ShardFilesMergeWithoutDuplicates) {
  kvb::ResultPath p{dir_.string(), "e", "m", "full", "needle"};
  p.shards = 2;
  for (int s = 0; s < 2; ++s) {
    p.shard = s;
    kvb::ResultWriter w(p);
    for (int i = s; i < 6; i += 2) w.append(record(i));
  }
  // The same sample in an unsharded file (written before the resume-across-shardings rule).
  std::ofstream(kvb::ResultPath{dir_.string(), "e", "m", "full", "needle"}.file()) << record(0).dump() << "\n";
  kvb::ResultWriter({dir_.string(), "e", "m", "full", "needle_long"}).append(record(9));  // another benchmark
  auto recs = kvb::read_benchmark_records(p.dir(), "needle");
  ASSERT_EQ(recs.size(), 6u);
  std::set<std::string> ids;
  for (const auto& r : recs) ids.insert(r["id"]);
  EXPECT_EQ(ids.size(), 6u);
}

TEST_F(ResultStoreTest, RunJsonHoldsConfigAndProvenance) {
  json cfg = {{"name", "demo"}, {"methods", {{{"name", "full"}}}}};
  kvb::write_run_json((dir_ / "demo").string(), cfg, {{"shard", "1/1"}});
  kvb::write_run_json((dir_ / "demo").string(), cfg, {{"shard", "1/1"}});
  json run = json::parse(slurp((dir_ / "demo/run.json").string()));
  EXPECT_EQ(run["config"], cfg);
  EXPECT_EQ(run["shard"], "1/1");
  EXPECT_EQ(run["provenance"]["git_commit"], kvb::git_commit());
  EXPECT_EQ(run["provenance"]["kvbench_version"], kvb::version());
  EXPECT_EQ(run["provenance"]["torch_version"].get<std::string>().substr(0, 2), std::to_string(TORCH_VERSION_MAJOR) + ".");
  EXPECT_FALSE(run["provenance"]["compiler"].get<std::string>().empty());
  EXPECT_FALSE(run["provenance"]["host"].get<std::string>().empty());
  EXPECT_EQ(kvb::read_records((dir_ / "demo/runs.jsonl").string()).size(), 2u);
}

TEST_F(ResultStoreTest, EveryShardingResumesFromTheOthersRecords) {
  for (int s = 0; s < 3; ++s) {
    kvb::ResultWriter w(cell_file(dir_, "b", s, 3));
    for (int i = s; i < 9; i += 3) w.append(record(i));
  }
  EXPECT_EQ(kvb::ResultWriter(cell_file(dir_, "b")).done_ids().size(), 9u);
  EXPECT_EQ(kvb::ResultWriter(cell_file(dir_, "b", 0, 2)).done_ids().size(), 9u);
  EXPECT_TRUE(kvb::ResultWriter(cell_file(dir_, "other")).done_ids().empty());
}

TEST_F(ResultStoreTest, TwoShardingsOfOneCellCannotRunAtOnce) {
  using kvb::test::error_text;
  {
    kvb::ResultWriter one(cell_file(dir_, "b", 0, 3));
    kvb::ResultWriter two(cell_file(dir_, "b", 1, 3));  // one sharding's slices run side by side
    EXPECT_NE(error_text([&] { kvb::ResultWriter w(cell_file(dir_, "b")); }).find("a run with --shard i/3 is writing"),
              std::string::npos);
    EXPECT_NE(error_text([&] { kvb::ResultWriter w(cell_file(dir_, "b", 0, 2)); }).find("--shard i/3"),
              std::string::npos);
    EXPECT_NE(error_text([&] { kvb::ResultWriter w(cell_file(dir_, "b", 0, 3)); }).find("another process"),
              std::string::npos);
    kvb::ResultWriter other_benchmark(cell_file(dir_, "c"));
  }
  kvb::ResultWriter whole(cell_file(dir_, "b"));
  EXPECT_NE(error_text([&] { kvb::ResultWriter w(cell_file(dir_, "b", 2, 3)); }).find("an unsharded run is writing"),
            std::string::npos);
  EXPECT_NE(error_text([&] { kvb::ResultWriter w(cell_file(dir_, "b")); }).find("another process"), std::string::npos);
}
