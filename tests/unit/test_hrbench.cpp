// HR-Bench: loader on the published TSV layout, the official prompts, can_infer and the
// cycle-averaged accuracy of the official evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench_fixture_util.h"
#include "tests/unit/error_text.h"

using namespace kvb::testing::bench_names;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<kvb::Benchmark> hr(const json& extra = json::object()) {
  json cfg = {{"splits", {"4k"}}};
  cfg.update(extra);
  return kvb::testing::make_benchmark("hrbench", cfg);
}

Sample mcq_sample() {  // what score() needs: the options and the gold letter
  Sample s;
  s.answer = "B";
  s.meta = {{"options", {{"A", "red"}, {"B", "blue"}, {"C", "green"}, {"D", "white"}}}};
  return s;
}

}  // namespace

TEST(HrBench, LoadsTsvWithIndexReferencesAndQuoting) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  auto samples = hr()->load(dir.string());
  ASSERT_EQ(samples.size(), 4u);
  for (const auto& s : samples) EXPECT_TRUE(s.error.empty()) << s.id << ": " << s.error;
  const Sample* s1 = kvb::testing::find_sample(samples, "4k/1");
  const Sample* s3 = kvb::testing::find_sample(samples, "4k/3");
  ASSERT_TRUE(s1 && s3);
  // Rows 1 and 3 store the index of the row holding their image.
  EXPECT_EQ(s1->messages[0].content[0].media.path, (dir / "images" / "HRBench4K" / "0.jpg").string());
  EXPECT_EQ(s3->messages[0].content[0].media.path, (dir / "images" / "HRBench4K" / "2.jpg").string());
  EXPECT_EQ(s3->group, "4k/cross");
  EXPECT_EQ(s3->answer, "D");
  EXPECT_EQ(s3->choices, (std::vector<std::string>{"lamp", "dog", "cat", "bench"}));
  // The cached file holds exactly the decoded bytes of the committed image.
  auto bytes = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  EXPECT_EQ(bytes(dir / "images" / "HRBench4K" / "2.jpg"), bytes(dir / "img2.jpg"));
  fs::remove_all(dir);
}

// Prompt goldens, written by hand from lmms-eval tasks/hrbench/utils.py hrbench_doc_to_text and
// from the HR-Bench repo's ImageMCQDataset.build_prompt (vlmeval/dataset/image_mcq.py).
TEST(HrBench, PromptGoldens) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  auto samples = hr()->load(dir.string());
  EXPECT_EQ(kvb::testing::prompt_text(*kvb::testing::find_sample(samples, "4k/3")),
            "Which \"object\" is left\tof the tree?\nA. lamp\nB. dog\nC. cat\nD. bench\n"
            "Answer the option letter directly.");
  samples = hr({{"prompt_style", "vlmevalkit"}})->load(dir.string());
  EXPECT_EQ(kvb::testing::prompt_text(*kvb::testing::find_sample(samples, "4k/0")),
            "Question: What is the colour of the car?\nOptions:\nA. red\nB. blue\nC. green\nD. white\n"
            "Please select the correct answer from the options above. \n");
  const auto& content = kvb::testing::find_sample(samples, "4k/0")->messages[0].content;
  ASSERT_EQ(content.size(), 2u);  // image first, then the text (msgs order of build_prompt)
  EXPECT_EQ(content[0].kind, kvb::Segment::Kind::Image);
  fs::remove_all(dir);
}

TEST(HrBench, MalformedRowsBecomePerSampleFailures) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  auto samples = hr({{"splits", {"8k"}}})->load(dir.string());
  ASSERT_EQ(samples.size(), 7u);
  auto err = [&](const char* id) { return kvb::testing::find_sample(samples, id)->error; };
  EXPECT_NE(err("8k/10").find("invalid base64 character"), std::string::npos) << err("8k/10");
  EXPECT_NE(err("8k/10").find("hr_bench_8k.tsv line 2 (index 10)"), std::string::npos) << err("8k/10");
  EXPECT_NE(err("8k/11").find("image of index '10' is unusable"), std::string::npos) << err("8k/11");
  EXPECT_NE(err("8k/12").find("no image"), std::string::npos) << err("8k/12");
  EXPECT_NE(err("8k/13").find("answer 'E' is not one of the option letters"), std::string::npos) << err("8k/13");
  EXPECT_NE(err("8k/14").find("index '999', which holds no image"), std::string::npos) << err("8k/14");
  EXPECT_NE(err("8k/16").find("not an image"), std::string::npos) << err("8k/16");
  const Sample* good = kvb::testing::find_sample(samples, "8k/15");
  EXPECT_TRUE(good->error.empty()) << good->error;
  EXPECT_EQ(good->choices.size(), 3u);  // the empty D cell is no option
  fs::remove_all(dir);
}

TEST(HrBench, MissingTsvIsAClearError) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  fs::remove(dir / "hr_bench_4k.tsv");
  try {
    hr()->load(dir.string());
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("hr_bench_4k.tsv' not found"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// Expected letters: the rules of can_infer (lmms-eval tasks/hrbench/hrbench_evals.py), checked
// against that code. "" = nothing inferred (the official code would then ask GPT).
TEST(HrBench, CanInferOnRealisticAnswers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"A", "A"}, {"B.", "B"}, {"(C)", "C"}, {"D) white", "D"}, {"The answer is B.", "B"},
      {"Answer: C", "C"}, {"I think the car is red.", "A"}, {"The car is blue", "B"}, {"blue", "B"},
      {"Red", "A"}, {"The correct option is (D).", "D"}, {"A. red", "A"}, {"B: blue", "B"},
      {"It is either A or B.", ""}, {"Option A and option C look similar", ""},
      {"The colour appears to be white.", "D"}, {"green and white stripes", ""}, {"I cannot tell.", ""},
      {"Z", "Z"}, {"Sorry, I can't help with images of people yet.", "Z"},
      {"Cannot determine the answer from the image", "Z"}, {"None of the options", ""},
      {"It's a blue car (B)", "B"}, {"**C**", "C"}, {"[D]", "D"}, {"{A}", "A"}, {"#B", "B"}, {"a", ""},
      {"b) blue", "B"}, {"The answer is C; green.", "C"}, {"A car", "A"}, {"purple", ""}, {"", ""},
      {"I'd say D!", "D"}, {"Answer:A", "A"}, {"option b", ""}, {"Failed to obtain answer via API", ""},
      {"The answer is B, not A.", ""}, {"reddish", "A"}, {"It looks Blue to me", "B"},
      {"  B\n", "B"},
  };
  auto b = hr();
  const Sample s = mcq_sample();
  for (const auto& [answer, letter] : cases) {
    auto sc = b->score(s, answer);
    EXPECT_EQ(sc.extracted, letter) << "answer: '" << answer << "'";
    EXPECT_EQ(sc.score, letter == "B" ? 1.0 : 0.0) << "answer: '" << answer << "'";
  }
}

// Official aggregation: accuracy per cycle_category, then the mean over cycles (per category
// and for all rows); the overall score is the mean over the splits.
TEST(HrBench, CycleEvaluationOnTinyTsv) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  auto b = hr();
  auto samples = b->load(dir.string());
  // cycle1: rows 0 (single, A) and 2 (cross, C); cycle2: rows 1 (single, B) and 3 (cross, D).
  const std::map<std::string, std::string> predictions = {
      {"4k/0", "A"}, {"4k/2", "The answer is (B)."}, {"4k/1", "B"}, {"4k/3", "lamp"}};
  std::vector<ScoredRecord> recs;
  for (const auto& s : samples) {
    ScoredRecord r{s.id, s.group, b->score(s, predictions.at(s.id)).score, false, s.meta};
    recs.push_back(r);
  }
  // A failed sample is counted apart, not as a wrong answer.
  recs.push_back({"4k/99", "4k/single", 0.0, true, {{"split", "4k"}, {"category", "single"}, {"cycle", "cycle1"}}});
  json agg = b->aggregate(recs);
  // Row 3: "lamp" is option A, the gold is D -> wrong. Row 2: B, gold C -> wrong.
  // cycle1: single 1/1, cross 0/1, all 1/2; cycle2: single 1/1, cross 0/1, all 1/2.
  EXPECT_DOUBLE_EQ(agg["groups"]["4k/single"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(agg["groups"]["4k/cross"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(agg["groups"]["4k/average"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(agg["overall"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(agg["all_rotations"]["4k/single"].get<double>(), 100.0);
  EXPECT_EQ(agg["n"].get<int64_t>(), 4);
  EXPECT_EQ(agg["failed"].get<int64_t>(), 1);

  // Unequal cycles: the mean of cycle accuracies differs from plain accuracy.
  recs = {
      {"a", "4k/single", 1.0, false, {{"split", "4k"}, {"category", "single"}, {"cycle", "c1"}, {"question_key", "q1"}}},
      {"b", "4k/single", 0.0, false, {{"split", "4k"}, {"category", "single"}, {"cycle", "c1"}, {"question_key", "q2"}}},
      {"c", "4k/single", 0.0, false, {{"split", "4k"}, {"category", "single"}, {"cycle", "c1"}, {"question_key", "q3"}}},
      {"d", "4k/single", 1.0, false, {{"split", "4k"}, {"category", "single"}, {"cycle", "c2"}, {"question_key", "q1"}}},
  };
  agg = b->aggregate(recs);
  EXPECT_NEAR(agg["groups"]["4k/average"].get<double>(), (100.0 / 3 + 100.0) / 2, 1e-9);
  EXPECT_NEAR(agg["plain_accuracy"]["4k/average"].get<double>(), 50.0, 1e-9);
  EXPECT_NEAR(agg["all_rotations"]["4k/average"].get<double>(), 100.0 / 3, 1e-9);
  fs::remove_all(dir);
}

TEST(HrBench, ConfigErrors) {
  EXPECT_THROW(hr({{"splits", {"16k"}}}), kvb::UsageError);
  EXPECT_THROW(hr({{"prompt", "x"}}), kvb::UsageError);
}

// A row's index names its cache file: "../.." must not write outside the cache.
TEST(HrBench, IndexCannotLeaveTheImageCache) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  const fs::path tsv = dir / "hr_bench_4k.tsv";
  std::ifstream in(tsv);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  // Row 0 holds an image; row 1 refers to it by index.
  text.replace(text.find("\n0\t"), 3, "\n../../escaped\t");
  text.replace(text.find("\tcycle2\t0\n"), 10, "\tcycle2\t../../escaped\n");
  std::ofstream(tsv) << text;
  auto samples = hr()->load(dir.string());
  EXPECT_FALSE(fs::exists(dir / "escaped.jpg"));
  const Sample* s = kvb::testing::find_sample(samples, "4k/../../escaped");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->error.empty()) << s->error;
  EXPECT_EQ(s->messages[0].content[0].media.path, (dir / "images/HRBench4K/%2E%2E%2F%2E%2E%2Fescaped.jpg").string());
  EXPECT_EQ(kvb::testing::find_sample(samples, "4k/1")->messages[0].content[0].media.path,
            s->messages[0].content[0].media.path);
  fs::remove_all(dir);
}

TEST(HrBench, CachedImageDoesNotHideACorruptCell) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  ASSERT_TRUE(hr()->load(dir.string()).at(0).error.empty());  // fills the cache
  const fs::path tsv = dir / "hr_bench_4k.tsv";
  std::ifstream in(tsv);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  const size_t b = text.find("iVBORw0KGgo");
  text.replace(b, 8, "########");
  std::ofstream(tsv) << text;
  auto samples = hr()->load(dir.string());
  const Sample* s0 = kvb::testing::find_sample(samples, "4k/0");
  ASSERT_TRUE(s0);
  EXPECT_NE(s0->error.find("line 2 (index 0)"), std::string::npos) << s0->error;
  fs::remove_all(dir);
}

TEST(HrBench, HeaderOnlyTsvAndForeignSplitsAreErrors) {
  auto dir = kvb::testing::scratch_copy("hrbench");
  std::ofstream(dir / "hr_bench_4k.tsv") << "index\tquestion\tanswer\tcategory\tA\tB\tC\tD\tcycle_category\timage\n";
  EXPECT_NE(kvb::test::error_text([&] { hr()->load(dir.string()); }).find("hr_bench_4k.tsv: no rows"),
            std::string::npos);
  fs::remove_all(dir);
  // Records of a split not scored must not turn into an overall of 0.
  std::vector<ScoredRecord> recs = {{"16k/0", "16k/single", 1.0, false, {{"split", "16k"}, {"category", "single"}}}};
  EXPECT_EQ(kvb::test::error_text([&] { hr()->aggregate(recs); }),
            "hrbench: sample '16k/0' has meta.split '16k', not one of the splits scored (4k); set 'splits'");
  EXPECT_TRUE(hr()->aggregate({})["overall"].is_null());
}
