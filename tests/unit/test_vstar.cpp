// V*: both published layouts, the lmms-eval generation prompt and letter extraction, the
// official likelihood form, malformed entries, and per-category aggregation.
#include <gtest/gtest.h>

#include <filesystem>

#include "bench_fixture_util.h"

using namespace kvb::testing::bench_names;

namespace {
const std::string kRoot = kvb::testing::fixture_root("vstar");
const std::string kInstr = "Answer with the option's letter from the given choices directly.";

std::unique_ptr<kvb::Benchmark> vstar(const json& cfg) { return kvb::testing::make_benchmark("vstar", cfg); }
}  // namespace

// Golden written by hand from lmms-eval vstar_doc_to_text: the options regex keeps the jsonl's
// own instruction in the last option, then post_prompt adds it again.
TEST(VStar, JsonlGenerationPromptGolden) {
  auto samples = vstar({{"layout", "jsonl"}})->load(kRoot);
  const Sample* s = find_sample(samples, "0");
  ASSERT_TRUE(s && s->error.empty());
  EXPECT_EQ(prompt_text(*s), "What is the material of the glove?\nA. rubber\nB. cotton\nC. kevlar\nD. leather\n" + kInstr +
                                 "\n" + kInstr);
  EXPECT_EQ(s->answer, "A");
  EXPECT_EQ(s->group, "direct_attributes");
  ASSERT_EQ(s->messages[0].content.size(), 2u);
  EXPECT_EQ(s->messages[0].content[0].kind, kvb::Segment::Kind::Image);
  EXPECT_EQ(s->messages[0].content[0].media.path, kRoot + "/direct_attributes/sa_4690.jpg");
  const Sample* rp = find_sample(samples, "115");
  EXPECT_EQ(prompt_text(*rp), "Is the cup on the left or right side of the plate?\nA. right\nB. left\n" + kInstr + "\n" + kInstr);
  // raw: the jsonl text as published (the LLaVA-style question file).
  samples = vstar({{"layout", "jsonl"}, {"prompt_style", "raw"}})->load(kRoot);
  EXPECT_EQ(prompt_text(*find_sample(samples, "1")),
            "What is the color of the dustpan?\n(A) purple\n(B) red\n(C) blue\n(D) white\n" + kInstr);
}

// Official vstar_bench_eval.py: qs = <image> + "\n" + annotation["question"]; each option is
// appended as the assistant message; option 0 is the correct one.
TEST(VStar, FoldersLikelihoodFormsOfficialContinuations) {
  auto b = vstar({{"layout", "folders"}, {"scoring", "likelihood"}});
  EXPECT_TRUE(b->likelihood_scoring());
  auto samples = b->load(kRoot);
  ASSERT_EQ(samples.size(), 5u);
  const Sample* s = find_sample(samples, "direct_attributes/sa_4690.jpg");
  ASSERT_TRUE(s && s->error.empty());
  EXPECT_EQ(prompt_text(*s), "What is the material of the glove?");
  EXPECT_EQ(s->choices, (std::vector<std::string>{"rubber", "cotton", "kevlar", "leather"}));
  EXPECT_EQ(s->answer, "A");
  const Sample* rp = find_sample(samples, "relative_position/sa_1012.jpg");
  EXPECT_EQ(rp->choices[1], "The cup is on the right side of the plate.");
  EXPECT_EQ(b->score(*rp, "A").score, 1.0);
  EXPECT_EQ(b->score(*rp, "B").score, 0.0);
  // Likelihood on the jsonl layout: question without options, bare option strings.
  samples = vstar({{"layout", "jsonl"}, {"scoring", "likelihood"}})->load(kRoot);
  s = find_sample(samples, "1");
  EXPECT_EQ(prompt_text(*s), "What is the color of the dustpan?");
  EXPECT_EQ(s->choices, (std::vector<std::string>{"purple", "red", "blue", "white"}));
  EXPECT_EQ(s->answer, "C");
}

TEST(VStar, FoldersGenerationUsesJsonlForm) {
  auto samples = vstar({{"layout", "folders"}})->load(kRoot);
  const Sample* s = find_sample(samples, "direct_attributes/sa_86101.jpg");
  EXPECT_EQ(prompt_text(*s), "What is the color of the dustpan?\nA. blue\nB. purple\nC. red\nD. white\n" + kInstr + "\n" + kInstr);
  EXPECT_EQ(s->answer, "A");
}

TEST(VStar, AutoLayoutPicksJsonlWhenPresent) {
  EXPECT_EQ(vstar(json::object())->load(kRoot).size(), 6u);  // jsonl: 6 lines
}

TEST(VStar, MalformedEntriesAreRecordedFailures) {
  auto samples = vstar({{"layout", "jsonl"}})->load(kRoot);
  ASSERT_EQ(samples.size(), 6u);
  auto err = [&](const std::string& id) {
    const Sample* s = find_sample(samples, id);
    return s ? s->error : std::string("<no sample ") + id + ">";
  };
  EXPECT_NE(err("line:4").find("test_questions.jsonl line 4"), std::string::npos) << err("line:4");
  EXPECT_NE(err("117").find("missing image '" + kRoot + "/relative_position/missing.jpg': not found"), std::string::npos) << err("117");
  EXPECT_NE(err("118").find("label 'E' is not one of the 2 option letters"), std::string::npos) << err("118");
  for (const char* ok : {"0", "1", "115"}) EXPECT_TRUE(err(ok).empty()) << err(ok);

  samples = vstar({{"layout", "folders"}})->load(kRoot);
  EXPECT_NE(err("relative_position/sa_2200.jpg").find("sa_2200.json' is not valid JSON"), std::string::npos)
      << err("relative_position/sa_2200.jpg");
  EXPECT_NE(err("relative_position/sa_3300.jpg").find("annotation 'sa_3300.json' not found"), std::string::npos)
      << err("relative_position/sa_3300.jpg");
  EXPECT_TRUE(err("relative_position/sa_1012.jpg").empty());
}

TEST(VStar, MissingRootOrFolderIsAClearError) {
  EXPECT_THROW(vstar(json::object())->load(kRoot + "/nope"), kvb::Error);
  try {
    vstar({{"layout", "folders"}})->load(kRoot + "/direct_attributes");
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("folder"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vstar({{"scoring", "logprob"}}), kvb::UsageError);
}

// Expected letters: lmms-eval tasks/vstar_bench/utils.py extract_answer_letter (checked against
// that code), quirks included ("Answer: C" starts with the letter A).
TEST(VStar, GenerationLetterExtractionOnRealisticAnswers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"A", "A"}, {"B", "B"}, {"(C)", "C"}, {"D.", "D"}, {"The answer is (B).", "B"}, {"The answer is B.", "B"},
      {"Answer: C", "A"}, {"answer: d", "A"}, {"b) red", "B"}, {"I think C", "C"}, {"C is correct", "C"},
      {"Option D", "D"}, {"The correct choice is A", "A"}, {"(A) rubber", "A"}, {"B. cotton", "B"},
      {"The glove is made of leather.", ""}, {"The color of the dustpan is blue", ""}, {"red", "D"},
      {"Blue.", "B"}, {"A cotton glove", "A"}, {"It could be A or B", "A"}, {"BLUE", "B"},
      {"None of the above", ""}, {"", ""}, {"   D   ", "D"}, {"[B]", "B"}, {"The material is rubber (A)", "A"},
      {"My answer: B", "B"}, {"I'd go with C, because it looks green", ""}, {"Because the glove is white", "B"},
      {"E", ""}, {"The answer is E.", "A"}, {"Definitely a leather glove", "D"}, {"choice b", "C"},
      {"C) kevlar\nExplanation: woven fibres", "C"}, {"The cup is on the left side.", ""}, {"left", ""},
  };
  auto b = vstar({{"layout", "jsonl"}});
  Sample s;
  s.answer = "B";
  for (const auto& [answer, letter] : cases) {
    auto sc = b->score(s, answer);
    EXPECT_EQ(sc.extracted, letter) << "answer: '" << answer << "'";
    EXPECT_EQ(sc.score, letter == "B" ? 1.0 : 0.0) << "answer: '" << answer << "'";
  }
}

TEST(VStar, AggregatesPerCategoryAndOverall) {
  auto b = vstar(json::object());
  std::vector<ScoredRecord> recs = {
      {"0", "direct_attributes", 1, false, {}}, {"1", "direct_attributes", 1, false, {}},
      {"2", "direct_attributes", 0, false, {}}, {"3", "relative_position", 1, false, {}},
      {"4", "relative_position", 0, false, {}}, {"5", "relative_position", 0, true, {}},
  };
  json agg = b->aggregate(recs);
  EXPECT_NEAR(agg["groups"]["direct_attributes"].get<double>(), 200.0 / 3, 1e-9);
  EXPECT_NEAR(agg["groups"]["relative_position"].get<double>(), 50.0, 1e-9);
  EXPECT_NEAR(agg["overall"].get<double>(), 60.0, 1e-9);  // 3 of 5: micro mean, as both official scripts
  EXPECT_NEAR(agg["macro"].get<double>(), (200.0 / 3 + 50.0) / 2, 1e-9);
  EXPECT_EQ(agg["failed"].get<int64_t>(), 1);
}
