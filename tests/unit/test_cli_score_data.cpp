// `kvbench score` and `kvbench data check` run as a user would, on the fixtures of every
// benchmark. Expected counts are read off the fixture files by hand (see each test).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bench_fixture_util.h"
#include "e2e/run_kvbench.h"

namespace {
const std::string kRoot = std::string(KVB_TEST_DATA) + "/fixtures/milebench";

using CliRun = kvb::test::KvbenchRun;
// stdout only, or stdout and stderr together (for the error messages).
CliRun run(const std::string& args, bool with_stderr = false) {
  return kvb::test::run_kvbench("-q " + args, with_stderr ? " 2>&1" : " 2>/dev/null");
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

TEST(CliDataCheck, DuplicateMileBenchSampleIdsFail) {
  const auto dir = kvb::testing::scratch_copy("milebench");
  const auto file = dir / "GPR1200/GPR1200.json";
  auto doc = nlohmann::json::parse(std::ifstream(file));
  doc["data"].push_back(doc["data"][0]);
  doc["data"][1]["sample_id"] = "0";  // the same id as a string
  std::ofstream(file) << doc.dump();
  CliRun r = run("data check --benchmark milebench --datasets GPR1200 --data-root " + dir.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("| GPR1200 | 2 | 1 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GPR1200.json data[1]: duplicate sample_id '0' (also data[0])"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
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

namespace {
const std::string kFixtures = std::string(KVB_TEST_DATA) + "/fixtures";


std::filesystem::path write_lines(const std::string& name, const std::vector<std::string>& lines) {
  auto file = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream f(file);
  for (const auto& l : lines) f << l << "\n";
  return file;
}

void expect_row(const nlohmann::json& j, const std::string& group, int samples, int malformed, int media,
                int missing_media) {
  ASSERT_TRUE(j["groups"].contains(group)) << group << " in " << j.dump();
  const auto& g = j["groups"][group];
  EXPECT_EQ(g["samples"], samples) << group;
  EXPECT_EQ(g["malformed"], malformed) << group;
  EXPECT_EQ(g["media"], media) << group;
  EXPECT_EQ(g["missing_media"], missing_media) << group;
}
}  // namespace

// test_questions.jsonl: ids 0, 1 (direct_attributes), 115 (relative_position) are fine; line 4
// is broken JSON (no category); 117 points at a missing image; 118 has label E of two options.
TEST(CliDataCheck, VStarJsonlFixture) {
  CliRun r = run("data check --benchmark vstar --json --data-root " + kFixtures + "/vstar");
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = nlohmann::json::parse(r.out);
  expect_row(j, "direct_attributes", 2, 0, 2, 0);
  expect_row(j, "relative_position", 3, 2, 1, 1);
  expect_row(j, "(all)", 1, 1, 0, 0);
  EXPECT_TRUE(j["missing_groups"].empty());
}

// hr_bench_4k.tsv: rows 0, 1 single and 2, 3 cross, rows 1 and 3 refer to the images of 0 and 2.
TEST(CliDataCheck, HrBench4kFixturePassesAnd8kHasBadRows) {
  auto dir = kvb::testing::scratch_copy("hrbench");  // HR-Bench caches decoded images next to its TSV
  CliRun r = run("data check --benchmark hrbench --set 'splits=[\"4k\"]' --json --data-root " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  expect_row(j, "4k/single", 2, 0, 2, 0);
  expect_row(j, "4k/cross", 2, 0, 2, 0);
  r = run("data check --benchmark hrbench --set 'splits=[\"8k\"]' --data-root " + dir.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("invalid base64 character"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

// video_perspective.json: B7DNX questions 0-2 (HAC, CM, SAD) fine, 3 (AS) answer not an option,
// 4 task type XYZ, 5 no question; 00X3U/0 (AS) fine; MISSING1/0 (NSM) has no video file; the
// last entry has no video_name. No MAD question.
TEST(CliDataCheck, FavorBenchFixture) {
  CliRun r = run("data check --benchmark favor_bench --json --data-root " + kFixtures + "/favor_bench");
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = nlohmann::json::parse(r.out);
  expect_row(j, "HAC", 1, 0, 1, 0);
  expect_row(j, "AS", 2, 1, 1, 0);
  expect_row(j, "XYZ", 1, 1, 0, 0);
  expect_row(j, "NSM", 1, 1, 0, 1);
  expect_row(j, "(all)", 2, 2, 0, 0);
  EXPECT_EQ(j["missing_groups"], nlohmann::json::array({"MAD"}));
}

TEST(CliDataCheck, NeedleNeedsNoData) {
  CliRun r = run("data check --benchmark needle --set needle_in=text --set images=0 --set samples=3 --json "
                 "--data-root .");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_row(nlohmann::json::parse(r.out), "text", 3, 0, 0, 0);
}

TEST(CliDataCheck, MissingRootIsAClearErrorForEveryDatasetBenchmark) {
  for (const char* b : {"milebench", "vstar", "hrbench", "favor_bench"}) {
    CliRun r = run(std::string("data check --benchmark ") + b + " --data-root /nonexistent/kvb_root", true);
    EXPECT_NE(r.code, 0) << b << ": " << r.out;
    EXPECT_NE(r.out.find("/nonexistent/kvb_root"), std::string::npos) << b << ": " << r.out;
    EXPECT_NE(r.out.find("not a directory"), std::string::npos) << b << ": " << r.out;
  }
}

// Gold letters: 0 -> A, 1 -> C, 115 -> B (test_questions.jsonl); 117 failed to load.
TEST(CliScore, VStarByIdWithLmmsEvalExtraction) {
  auto file = write_lines("kvb_cli_vstar", {R"({"id": "0", "prediction": "A"})",
                                            R"({"id": "1", "prediction": "The answer is (B)."})",
                                            R"({"id": "115", "prediction": "(B) left"})",
                                            R"({"id": "117", "prediction": "A"})",
                                            R"({"id": "999", "prediction": "A"})"});
  CliRun r = run("score --benchmark vstar --data-root " + kFixtures + "/vstar --predictions " + file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["groups"]["direct_attributes"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(j["groups"]["relative_position"].get<double>(), 100);
  EXPECT_NEAR(j["overall"].get<double>(), 200.0 / 3, 1e-9);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["skipped_lines"], 1);  // id 999 is not in the data
  std::filesystem::remove(file);
}

// Gold: 4k/0 A, 4k/1 B, 4k/2 C (bench), 4k/3 D. Official cycle averaging: single = mean(cycle1 100,
// cycle2 0) = 50, cross = 100, average = mean(cycle1 100, cycle2 50) = 75.
TEST(CliScore, HrBenchCycleAveraged) {
  auto dir = kvb::testing::scratch_copy("hrbench");  // HR-Bench caches decoded images next to its TSV
  auto file = write_lines("kvb_cli_hrbench", {R"({"id": "4k/0", "prediction": "A"})",
                                              R"({"id": "4k/1", "prediction": "The answer is C."})",
                                              R"({"id": "4k/2", "prediction": "It is the bench"})",
                                              R"({"id": "4k/3", "prediction": "D. bench"})"});
  CliRun r = run("score --benchmark hrbench --set 'splits=[\"4k\"]' --data-root " + dir.string() +
                 " --predictions " + file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["groups"]["4k/single"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(j["groups"]["4k/cross"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(j["groups"]["4k/average"].get<double>(), 75);
  EXPECT_DOUBLE_EQ(j["overall"].get<double>(), 75);
  std::filesystem::remove(file);
  std::filesystem::remove_all(dir);
}

// Gold: B7DNX/1 "Pan left" (CM), 00X3U/0 "Turned her head to the right and then immediately
// turned it to the left" (AS).
TEST(CliScore, FavorBenchById) {
  auto file = write_lines("kvb_cli_favor", {R"({"id": "B7DNX/1", "prediction": "Pan left"})",
                                            R"({"id": "00X3U/0", "prediction": "Static"})"});
  CliRun r = run("score --benchmark favor_bench --data-root " + kFixtures + "/favor_bench --predictions " +
                 file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["groups"]["CM"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(j["groups"]["AS"].get<double>(), 0);
  std::filesystem::remove(file);
}

TEST(CliScore, NeedleSelfContainedLines) {
  auto file = write_lines("kvb_cli_needle",
                          {R"({"id": "needle/0", "prediction": "The code is 4821.", "answer": "4821", "group": "text"})",
                           R"({"id": "needle/1", "prediction": "48211", "answer": "4821", "group": "image"})"});
  CliRun r = run("score --benchmark needle --predictions " + file.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["groups"]["text"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(j["groups"]["image"].get<double>(), 0);  // the code must be a whole word
  std::filesystem::remove(file);
}

// Each bad line is reported with its line number and the field, never as a raw library error.
TEST(CliScore, WrongFieldTypesAndDeepNestingNameTheLine) {
  auto file = write_lines("kvb_cli_fields_" + std::to_string(::getpid()),
                          {R"({"id": "a", "prediction": "4821", "answer": "4821", "choices": 5})",
                           R"({"id": "b", "prediction": "4821", "answer": "4821", "meta": "x"})",
                           R"({"id": "c", "prediction": "4821", "answer": "4821", "failed": "yes"})",
                           std::string(100000, '[') + std::string(100000, ']'),
                           R"({"id": "d", "prediction": "4821", "answer": "4821", "group": "text"})"});
  CliRun r = run("score --benchmark needle --predictions " + file.string(), true);
  EXPECT_EQ(r.code, 0) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find(":1: field 'choices' must be a list of strings, got 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":2: field 'meta' must be an object, got \"x\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":3: field 'failed' must be true or false, got \"yes\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":4: [json.exception.parse_error.101] parse error at byte 513: JSON nested deeper than 512"),
            std::string::npos) << r.out.substr(0, 2000);
  EXPECT_EQ(r.out.find("type_error"), std::string::npos) << r.out;
  std::filesystem::remove(file);
}

TEST(CliScore, MalformedOrMissingPredictionsAreClearErrors) {
  auto file = write_lines("kvb_cli_broken", {"not json", R"({"prediction": "A"})", "[1, 2]"});
  CliRun r = run("score --benchmark vstar --predictions " + file.string(), true);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(file.string() + ":1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no usable prediction lines"), std::string::npos) << r.out;
  std::filesystem::remove(file);
  r = run("score --benchmark vstar --predictions /nonexistent/preds.jsonl", true);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/preds.jsonl"), std::string::npos) << r.out;
  r = run("score --benchmark vstar --data-root /nonexistent/kvb_root --predictions " + kFixtures +
              "/vstar/test_questions.jsonl",
          true);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("not a directory"), std::string::npos) << r.out;
}

// Data that holds no samples at all is a failed check, not an empty pass.
TEST(CliDataCheck, EmptyVStarFileAndHeaderOnlyHrBenchFail) {
  const auto vstar = kvb::testing::scratch_copy("vstar");
  std::ofstream(vstar / "test_questions.jsonl").close();  // truncated to nothing
  CliRun r = run("data check --benchmark vstar --data-root " + vstar.string(), true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("vstar: no samples in '" + (vstar / "test_questions.jsonl").string() + "' (jsonl layout)"),
            std::string::npos) << r.out;
  std::filesystem::remove_all(vstar);
  const auto hr = kvb::testing::scratch_copy("hrbench");
  std::ofstream(hr / "hr_bench_4k.tsv") << "index\tquestion\tanswer\tcategory\tA\tB\tC\tD\tcycle_category\timage\n";
  r = run("data check --benchmark hrbench --set 'splits=[\"4k\"]' --data-root " + hr.string(), true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("hr_bench_4k.tsv: no rows (only a header)"), std::string::npos) << r.out;
  std::filesystem::remove_all(hr);
}
