// `kvbench run` end to end, as a user runs it, on the tiny random Qwen2.5-VL checkpoint and the
// needle benchmark: a sweep killed with SIGKILL mid-way and rerun ends with exactly one record
// per (cell, sample) and the same table as an uninterrupted run; the union of --shard i/3
// equals the unsharded records.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/run_kvbench.h"
#include "e2e/scratch_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path& scratch() {
  static const kvb::test::ScratchDir s("kvb_e2e_run_");
  return s.path;
}

std::string sh(const std::string& args, int* code = nullptr) {
  const kvb::test::KvbenchRun r = kvb::test::run_kvbench("-q " + args);
  if (code) *code = r.code;
  return r.out;
}

// Tiny model + config, written once per test binary.
const fs::path& config() {
  static const fs::path cfg = [] {
    const fs::path model = scratch() / "tiny";
    int code = 0;
    const std::string out = sh("make-tiny-model --out " + model.string(), &code);
    EXPECT_EQ(code, 0) << out;
    const json c = {
        {"name", "e2e"}, {"rho", {0.3}},
        {"models", {{{"name", "tiny"}, {"path", model.string()}}}},
        {"benchmarks", {{{"name", "needle"}, {"options", {{"samples", 3}, {"min_tokens", 100}, {"max_tokens", 150}}}}}},
        {"methods", {{{"name", "full"}}, {{"name", "snapkv"}}, {{"name", "flashcache"}, {"grid", {{"gamma", {0.3}}}}}}},
        {"generation", {{"max_new_tokens", 4}}},
        {"tables", {{{"columns", {{{"benchmark", "needle"}},
                                  {{"benchmark", "needle"}, {"metric", "agree_full"}, {"scale", 100}},
                                  {{"benchmark", "needle"}, {"metric", "kl_full"}, {"digits", 6}}}}}}}};
    const fs::path p = scratch() / "e2e.json";
    std::ofstream(p) << c.dump(2);
    return p;
  }();
  return cfg;
}

constexpr size_t kCells = 3, kSamples = 3;

std::string run_args(const fs::path& results) { return "run --no-fsync --config " + config().string() + " --results " + results.string(); }
std::string table(const fs::path& results) { return sh("table --experiment " + config().string() + " --results " + results.string()); }

// One uninterrupted, unsharded run shared by the tests.
const fs::path& uninterrupted() {
  static const fs::path dir = [] {
    const fs::path d = scratch() / "clean";
    int code = 0;
    const std::string out = sh(run_args(d), &code);
    EXPECT_EQ(code, 0) << out;
    return d;
  }();
  return dir;
}

// (cell/id) -> prediction over every record file under results/e2e/tiny; counts lines.
std::map<std::string, std::string> records(const fs::path& results, size_t* lines) {
  std::map<std::string, std::string> out;
  *lines = 0;
  for (const auto& cell : fs::directory_iterator(results / "e2e" / "tiny"))
    for (const auto& f : fs::directory_iterator(cell.path())) {
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const json r = json::parse(line);
        out[cell.path().filename().string() + "/" + r["id"].get<std::string>()] = r["prediction"];
        ++*lines;
      }
    }
  return out;
}

size_t lines_in(const fs::path& f) {
  std::ifstream in(f);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

TEST(CliRunTiny, KilledSweepResumesToTheUninterruptedTable) {
  const fs::path& clean = uninterrupted();
  const fs::path killed = scratch() / "killed";

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string cmd = std::string(KVB_BINARY) + " -q " + run_args(killed) + " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill once Full has recorded a sample: the other cells are then partly done.
  const fs::path full = killed / "e2e/tiny/full/needle.jsonl";
  int status = 0;
  while (!fs::exists(full) || lines_in(full) < 1) {
    ASSERT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the run ended before the kill";
    ::usleep(2000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before the kill";
  size_t before = 0, after = 0, clean_lines = 0;
  records(killed, &before);
  ASSERT_LT(before, kCells * kSamples);

  int code = 0;
  const std::string out = sh(run_args(killed), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(records(killed, &after), records(clean, &clean_lines));
  EXPECT_EQ(after, kCells * kSamples);  // exactly one record per (cell, sample)
  EXPECT_EQ(clean_lines, kCells * kSamples);
  const std::string t = table(clean);
  EXPECT_NE(t.find("| Full |"), std::string::npos) << t;
  EXPECT_EQ(table(killed), t);
}

// The run ends with where its results are and the tables `kvbench table` prints from them.
TEST(CliRunTiny, RunEndsWithTheResultsPathAndTable) {
  const fs::path& clean = uninterrupted();
  int code = 0;
  std::string out = sh(run_args(clean), &code);  // everything recorded: nothing reruns
  ASSERT_EQ(code, 0) << out;
  const std::string t = table(clean);
  EXPECT_NE(t.find("| Full |"), std::string::npos) << t;
  EXPECT_NE(out.find("results: " + (clean / "e2e").string() + "\n\n" + t), std::string::npos) << out;
  out = sh(run_args(clean) + " --shard 2/3", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("| Full |"), std::string::npos) << out;  // one shard's table would mislead
  EXPECT_NE(out.find("shard 2/3 done"), std::string::npos) << out;
}

TEST(CliRunTiny, ShowPrintsOneSampleOfACellNextToFull) {
  const fs::path& clean = uninterrupted();
  std::ifstream in(clean / "e2e/tiny/snapkv-rho0.3/needle.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const json rec = json::parse(line);
  int code = 0;
  const std::string out = sh("show --experiment " + config().string() + " --results " + clean.string() +
                                 " --cell snapkv-rho0.3 --id " + rec["id"].get<std::string>(), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("```\n[user] "), std::string::npos) << out;  // the recorded prompt
  EXPECT_NE(out.find("| | full | snapkv-rho0.3 |"), std::string::npos) << out;
  EXPECT_NE(out.find("| prefill_ms | "), std::string::npos) << out;
  EXPECT_EQ(sh("show --experiment " + config().string() + " --results " + clean.string() + " --cell snapkv --id x", &code)
                .find("kvbench: error: "), 0u);
  EXPECT_EQ(code, 2);
}

TEST(CliRunTiny, ShardUnionEqualsUnshardedRun) {
  const fs::path& whole = uninterrupted();
  const fs::path sharded = scratch() / "sharded";
  int code = 0;
  std::string out;
  for (int i = 1; i <= 3; ++i) {
    out = sh(run_args(sharded) + " --shard " + std::to_string(i) + "/3", &code);
    ASSERT_EQ(code, 0) << out;
  }
  EXPECT_TRUE(fs::exists(sharded / "e2e/tiny/full/needle.shard2of3.jsonl"));
  size_t a = 0, b = 0;
  EXPECT_EQ(records(sharded, &a), records(whole, &b));
  EXPECT_EQ(a, kCells * kSamples);
  EXPECT_EQ(table(sharded), table(whole));
  // Rerun unsharded, then with another sharding: everything is recorded, nothing runs twice.
  for (const char* extra : {"", " --shard 1/2"}) {
    out = sh(run_args(sharded) + extra, &code);
    ASSERT_EQ(code, 0) << out;
    EXPECT_EQ(records(sharded, &a), records(whole, &b)) << extra;
    EXPECT_EQ(a, kCells * kSamples) << extra;
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A rerun with a changed setting must neither skip samples as recorded nor relabel the records.
TEST(CliRunTiny, ChangedSettingsAreRefusedBeforeAnythingIsWritten) {
  const fs::path& results = uninterrupted();
  const std::string run_json = slurp(results / "e2e/run.json");
  for (const auto& [set, says] : std::map<std::string, std::string>{
           {"benchmarks.0.options.max_tokens=140", "/benchmark/options/max_tokens: recorded 150, now 140"},
           {"models.0.dtype=bfloat16", "/model/load/dtype: recorded (absent), now \"bfloat16\""},
           {"generation.max_new_tokens=5", "/generation/max_new_tokens: recorded 4, now 5"}}) {
    int code = 0;
    const std::string out = sh(run_args(results) + " --set " + set, &code);
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find(says), std::string::npos) << out;
    EXPECT_NE(out.find("e2e/tiny/full/needle.jsonl: record 1 (id"), std::string::npos) << out;
    // --check finds it too, before anyone starts the run.
    const std::string checked = sh(run_args(results) + " --check --set " + set, &code);
    EXPECT_EQ(code, 1) << checked;
    EXPECT_NE(checked.find(says), std::string::npos) << checked;
  }
  EXPECT_EQ(slurp(results / "e2e/run.json"), run_json);
  int code = 0;
  const std::string same = sh(run_args(results) + " --check", &code);
  EXPECT_EQ(code, 0) << same;
  EXPECT_NE(same.find("none, or all made with these settings"), std::string::npos) << same;
}

TEST(CliRun, NegativeLimitIsOneShortLine) {
  int code = 0;
  const std::string out = sh("run --config /nonexistent.json --limit -1", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("must be a non-negative integer, got '-1'"), std::string::npos) << out;
  EXPECT_LT(out.size(), 200u) << out;
}

}  // namespace
