// FAVOR-Bench: the question json as published, the official prompt and video element, the
// official judge and the per-task-type accuracy.
#include <gtest/gtest.h>

#include "bench_fixture_util.h"

using namespace kvb::testing::bench_names;

namespace {
const std::string kRoot = kvb::testing::fixture_root("favor_bench");
const std::string kHead =
    "Carefully watch the video and pay attention to temporal dynamics in this video, focusing on the camera "
    "motions, actions, activities, and interactions. Based on your observations, select the best option that "
    "accurately addresses the question.\n";
std::unique_ptr<kvb::Benchmark> favor(const json& cfg = json::object()) {
  return kvb::testing::make_benchmark("favor_bench", cfg);
}
}  // namespace

// Goldens written by hand from inference_qa_qwen.py: the f-string prints the options list with
// Python's str(list) (quotes chosen per item, backslashes doubled).
TEST(FavorBench, PromptGoldensAndVideoElement) {
  auto samples = favor()->load(kRoot);
  const Sample* s = find_sample(samples, "B7DNX/1");
  ASSERT_TRUE(s && s->error.empty()) << (s ? s->error : "missing");
  EXPECT_EQ(prompt_text(*s), kHead + "How does the camera move?\nYou can only response with the answer among "
                                     "['Pan left', 'Pan left then zoom in', 'Static', 'Tilt up']");
  const Sample* q = find_sample(samples, "B7DNX/2");
  EXPECT_EQ(prompt_text(*q), kHead + "What does the man do with the \"cup\"?\nYou can only response with the answer among "
                                     "[\"He lifts the man's cup\", 'He drops it', 'He says \"hi\" to it', \"It's a \\\\ mark\"]");
  const auto& content = s->messages.at(0).content;
  ASSERT_EQ(content.size(), 2u);  // video first, then the text, as in the official message
  EXPECT_EQ(content[0].kind, kvb::Segment::Kind::Video);
  EXPECT_EQ(content[0].media.path, kRoot + "/test_videos/B7DNX.mp4");
  EXPECT_DOUBLE_EQ(content[0].media.fps, 1.0);
  EXPECT_EQ(content[0].media.max_pixels, 360 * 420);
  EXPECT_EQ(s->group, "CM");
  EXPECT_EQ(s->answer, "Pan left");
  // fps / max_pixels come from the config.
  samples = favor({{"fps", 2.0}, {"max_pixels", 50176}})->load(kRoot);
  const auto& m = find_sample(samples, "00X3U/0")->messages.at(0).content[0].media;
  EXPECT_DOUBLE_EQ(m.fps, 2.0);
  EXPECT_EQ(m.max_pixels, 50176);
}

TEST(FavorBench, MalformedEntriesAreRecordedFailures) {
  auto samples = favor()->load(kRoot);
  ASSERT_EQ(samples.size(), 9u);
  auto err = [&](const std::string& id) {
    const Sample* s = find_sample(samples, id);
    return s ? s->error : "<no sample " + id + ">";
  };
  EXPECT_NE(err("B7DNX/3").find("correct_answer 'He jumps' is not one of the options"), std::string::npos) << err("B7DNX/3");
  EXPECT_NE(err("B7DNX/4").find("unknown task_type 'XYZ'"), std::string::npos) << err("B7DNX/4");
  EXPECT_NE(err("B7DNX/5").find("field 'question' missing"), std::string::npos) << err("B7DNX/5");
  EXPECT_NE(err("MISSING1/0").find("missing video 'MISSING1.mp4': not found"), std::string::npos) << err("MISSING1/0");
  EXPECT_NE(err("entry:3").find("needs 'video_name'"), std::string::npos) << err("entry:3");
  for (const char* ok : {"B7DNX/0", "B7DNX/1", "B7DNX/2", "00X3U/0"}) EXPECT_TRUE(err(ok).empty()) << ok << ": " << err(ok);
}

TEST(FavorBench, MissingOrBrokenAnnotationIsAClearError) {
  EXPECT_THROW(favor({{"annotation_file", "nope.json"}})->load(kRoot), kvb::Error);
  try {
    favor({{"annotation_file", "test_videos/B7DNX.mp4"}})->load(kRoot);
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not valid JSON"), std::string::npos) << e.what();
  }
  EXPECT_THROW(favor({{"fps", 0}}), kvb::UsageError);
}

// Expected verdicts: the judge of inference_qa_qwen.py, checked against that code.
TEST(FavorBench, OfficialJudgeOnRealisticAnswers) {
  auto b = favor();
  auto samples = b->load(kRoot);
  const Sample& cm = *find_sample(samples, "B7DNX/1");   // "Pan left" is inside "Pan left then zoom in"
  const Sample& hac = *find_sample(samples, "B7DNX/0");
  const std::vector<std::pair<std::string, bool>> cm_cases = {
      {"Pan left", true}, {"pan left", true}, {"PAN LEFT.", true}, {"The camera pans left.", false},
      {"The answer is Pan left", true}, {"Pan left then zoom in", false}, {"pan left then zoom in", false},
      {"Pan Left Then Zoom In", false}, {"Static", false}, {"C", false}, {"A", false},
      {"The camera is static, no pan left", true}, {"Pan  left", false}, {"'Pan left'", true}, {"['Pan left']", true},
      {"Tilt up", false}, {"", false}, {"pan-left", false}, {"Answer: Pan left then zoom in? No, Pan left", false},
      {"pan leftward", true},
  };
  for (const auto& [out, ok] : cm_cases) EXPECT_EQ(b->score(cm, out).score, ok ? 1.0 : 0.0) << "output: '" << out << "'";
  const std::vector<std::pair<std::string, bool>> hac_cases = {
      {"Multi-stage behavioral transition and articulation process", true},
      {"multi-stage behavioral transition and articulation process.", true},
      {"C. Multi-stage behavioral transition and articulation process", true}, {"C", false},
      {"Multi-stage behavioral transition", false}, {"Postural changes and spatial relocation phase", false},
      {"The answer is: MULTI-STAGE BEHAVIORAL TRANSITION AND ARTICULATION PROCESS", true},
      {"Multi-stage behavioural transition and articulation process", false},
      {"Sleep adjustment and clothing organization phase, then Multi-stage behavioral transition and articulation process", true},
      {"I cannot determine that from the video.", false},
  };
  for (const auto& [out, ok] : hac_cases) EXPECT_EQ(b->score(hac, out).score, ok ? 1.0 : 0.0) << "output: '" << out << "'";
}

TEST(FavorBench, AccuracyPerTaskTypeAndAll) {
  auto b = favor();
  std::vector<ScoredRecord> recs = {
      {"a", "AS", 1, false, {}}, {"b", "AS", 0, false, {}}, {"c", "CM", 1, false, {}},
      {"d", "HAC", 0, false, {}}, {"e", "AS", 1, false, {}}, {"f", "NSM", 0, true, {}},
  };
  json agg = b->aggregate(recs);
  EXPECT_NEAR(agg["groups"]["AS"].get<double>(), 200.0 / 3, 1e-9);
  EXPECT_NEAR(agg["groups"]["CM"].get<double>(), 100.0, 1e-9);
  EXPECT_NEAR(agg["groups"]["HAC"].get<double>(), 0.0, 1e-9);
  EXPECT_NEAR(agg["overall"].get<double>(), 60.0, 1e-9);  // ALL: 3 of 5 scored questions
  EXPECT_EQ(agg["failed"].get<int64_t>(), 1);
  EXPECT_FALSE(agg["groups"].contains("NSM"));
}
