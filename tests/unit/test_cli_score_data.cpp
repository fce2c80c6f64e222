// `kvbench score` and `kvbench data check` run as a user would, on the MileBench fixtures.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {
const std::string kRoot = std::string(KVB_TEST_DATA) + "/fixtures/milebench";

struct CliRun {
  int code;
  std::string out;
};
CliRun run(const std::string& args) {
  std::string cmd = std::string(KVB_BINARY) + " -q " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
}  // namespace

TEST(CliDataCheck, ReportsMalformedMissingAndAbsentDatasets) {
  CliRun r = run("data check --benchmark milebench --data-root " + kRoot);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("| ActionSequence | 4 | 2 | 3 | 1 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| ObjectShuffle | 1 | 1 | 0 | 0 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| ALFRED | missing |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("as_1_missing.png"), std::string::npos) << r.out;
}

TEST(CliDataCheck, CleanSubsetPasses) {
  CliRun r = run("data check --benchmark milebench --datasets WebQA,GPR1200 --json --data-root " + kRoot);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["groups"]["GPR1200"]["media"], 3);
  EXPECT_EQ(j["groups"]["WebQA"]["samples"], 1);
  EXPECT_TRUE(j["missing_groups"].empty());
}

TEST(CliScore, RescoresPredictionsByIdAndSelfContained) {
  auto file = std::filesystem::temp_directory_path() / "kvb_cli_score_preds.jsonl";
  std::ofstream(file) << R"({"id": "ActionSequence/0", "prediction": "B"})" "\n"
                      << R"({"id": "ActionSequence/3", "prediction": "Nothing"})" "\n"
                      << "this line is broken\n"
                      << R"({"id": "ActionSequence/1", "prediction": "A"})" "\n"
                      << R"({"id": "WebQA/7", "prediction": "The roof is red"})" "\n"
                      << R"({"id": "n/1", "prediction": "code 7421", "answer": "7421", "group": "TextNeedleInAHaystack", "meta": {"eval": "needle"}})" "\n";
  CliRun r = run("score --benchmark milebench --data-root " + kRoot + " --predictions " + file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["datasets"]["ActionSequence"]["score"].get<double>(), 100);  // sample 1 failed: missing image
  EXPECT_EQ(j["datasets"]["ActionSequence"]["failed"], 1);
  EXPECT_NEAR(j["datasets"]["WebQA"]["score"].get<double>(), 100 * 2.0 / (2.0 + 1e-8), 1e-9);
  EXPECT_DOUBLE_EQ(j["groups"]["NH"].get<double>(), 100);
  EXPECT_EQ(j["skipped_lines"], 1);
  std::filesystem::remove(file);
}

TEST(CliScore, WithoutDataRootOnlySelfContainedLinesScore) {
  auto file = std::filesystem::temp_directory_path() / "kvb_cli_score_selfcontained.jsonl";
  std::ofstream(file) << R"({"id": "ActionSequence/0", "prediction": "B"})" "\n"
                      << R"({"id": "m/1", "prediction": "B) blue", "answer": "blue", "choices": ["red", "blue"], "group": "TQA", "meta": {"eval": "multi-choice"}})" "\n";
  CliRun r = run("score --benchmark milebench --predictions " + file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["skipped_lines"], 1);  // an id-only line needs --data-root
  EXPECT_DOUBLE_EQ(j["groups"]["S-1"].get<double>(), 100);
  std::filesystem::remove(file);
}
