// MileBench against the official code's rules (utils.py prompt building, evaluate.py scoring)
// on fixtures in the published layout: tests/fixtures/milebench/<Dataset>/<Dataset>.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "benchmarks/milebench_prompt.h"
#include "core/error.h"
#include "core/registry.h"
#include "eval/benchmark.h"

namespace {
const std::string kRoot = std::string(KVB_TEST_DATA) + "/fixtures/milebench";

std::unique_ptr<kvb::Benchmark> make(const nlohmann::json& cfg) {
  return kvb::Registry<kvb::Benchmark>::instance().create("milebench", cfg);
}

std::map<std::string, kvb::Sample> by_id(const std::vector<kvb::Sample>& v) {
  std::map<std::string, kvb::Sample> m;
  for (const auto& s : v) m[s.id] = s;
  return m;
}

// The prompt as the official code's string: text with <ImageHere> where images sit.
std::string render(const kvb::Sample& s, std::vector<std::string>* images = nullptr) {
  std::string out;
  for (const auto& msg : s.messages)
    for (const auto& seg : msg.content) {
      if (seg.kind == kvb::Segment::Kind::Text) {
        out += seg.text;
      } else {
        out += "<ImageHere>";
        if (images) images->push_back(seg.media.path.substr(seg.media.path.rfind('/') + 1));
      }
    }
  return out;
}

void expect_same_text(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  EXPECT_EQ(got, want) << "first difference at character " << i << ": got '" << got.substr(i, 20)
                       << "' want '" << want.substr(i, 20) << "'";
}

// One byte = one token, so budgets can be worked out by hand.
kvb::TokenCodec byte_codec() {
  kvb::TokenCodec c;
  c.encode = [](const std::string& s) { return std::vector<int64_t>(s.begin(), s.end()); };
  c.decode = [](const std::vector<int64_t>& ids) { return std::string(ids.begin(), ids.end()); };
  return c;
}
}  // namespace

TEST(MileBench, PromptGoldenActionSequence) {
  auto s = by_id(make({{"datasets", {"ActionSequence"}}})->load(kRoot)).at("ActionSequence/0");
  ASSERT_TRUE(s.error.empty()) << s.error;
  // Written by hand from utils.py: instruction + "\n" + context with the choice block appended,
  // {image#k} -> <ImageHere>, then the worker's "<ImageHere><ImageHere>" -> "<ImageHere>\n<ImageHere>\n".
  const std::string want =
      "Given a series of video frames, answer the question about the order of actions.\n"
      "Frames: <ImageHere>\n<ImageHere>\n Question: What did the person do first?\n"
      "Choice list: \n"
      "A. Opened the door.\n"
      "B. Picked up the cup.\n"
      "C. Sat down.\n"
      "D. Closed the window.\n"
      "Your answer is: ";
  std::vector<std::string> images;
  expect_same_text(render(s, &images), want);
  EXPECT_EQ(images, (std::vector<std::string>{"as_0_1.png", "as_0_2.png"}));
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].role, "user");
  EXPECT_EQ(s.messages[0].content[1].media.max_pixels, 448 * 448);
  EXPECT_EQ(s.answer, "Picked up the cup.");
}

TEST(MileBench, PromptGoldenGprHasNoLetters) {
  auto s = by_id(make({{"datasets", {"GPR1200"}}})->load(kRoot)).at("GPR1200/0");
  ASSERT_TRUE(s.error.empty()) << s.error;
  std::vector<std::string> images;
  expect_same_text(render(s, &images),
                   "Find the candidate image that shows the same object as the query image.\n"
                   "Query: <ImageHere> Which candidate shows the same object?\n"
                   "Choice list: \n<ImageHere>\n<ImageHere>\nYour answer is: ");
  EXPECT_EQ(images, (std::vector<std::string>{"query.png", "cand_1.png", "cand_2.png"}));
}

TEST(MileBench, LeftTruncationByHand) {
  using kvb::milebench::truncate_left;
  const std::string ctx = "aaaa<ImageHere>bb<ImageHere>cccc";
  const std::vector<std::string> imgs = {"i1", "i2"};
  // budget 15 - 3 = 12: "cccc" (4) + i2 (5) + "bb" (2) = 11; i1 would make 16.
  auto t = truncate_left("INS", ctx, imgs, byte_codec(), 15, 5);
  EXPECT_EQ(t.text, "INS\nbb<ImageHere>cccc");
  EXPECT_EQ(t.images, std::vector<std::string>{"i2"});
  // budget 7: "cccc" + i2 = 9 > 7 stops before the image.
  t = truncate_left("INS", ctx, imgs, byte_codec(), 10, 5);
  EXPECT_EQ(t.text, "INS\ncccc");
  EXPECT_TRUE(t.images.empty());
  // budget 9: "cccc" + i2 = 9 fits, "bb" does not: the kept image leads the context.
  t = truncate_left("INS", ctx, imgs, byte_codec(), 12, 5);
  EXPECT_EQ(t.text, "INS\n<ImageHere>cccc");
  EXPECT_EQ(t.images, std::vector<std::string>{"i2"});
  // budget 2: the last fragment alone is too long and keeps its last 2 tokens.
  t = truncate_left("INS", ctx, imgs, byte_codec(), 5, 5);
  EXPECT_EQ(t.text, "INS\ncc");
  // Everything fits: unchanged.
  t = truncate_left("INS", ctx, imgs, byte_codec(), 100, 5);
  EXPECT_EQ(t.text, "INS\n" + ctx);
  EXPECT_EQ(t.images, imgs);
}

TEST(MileBench, TruncationUsesAttachedTokenizer) {
  auto b = make({{"datasets", {"ActionSequence"}}, {"max_context_len", 130}, {"n_tokens_per_image", 10}});
  b->set_tokenizer(byte_codec());
  auto s = by_id(b->load(kRoot)).at("ActionSequence/0");
  ASSERT_TRUE(s.error.empty()) << s.error;
  // Instruction 79 bytes -> budget 51; the text after the last image alone is 148 bytes, so
  // only its last 51 bytes remain ("C. Sat down.\n" 13 + "D. Closed the window.\n" 22 +
  // "Your answer is: " 16) and no image fits.
  std::vector<std::string> images;
  expect_same_text(render(s, &images),
                   "Given a series of video frames, answer the question about the order of actions.\n"
                   "C. Sat down.\nD. Closed the window.\nYour answer is: ");
  EXPECT_TRUE(images.empty());
}

TEST(MileBench, MalformedSamplesFailAloneAndAllSkipsMissing) {
  auto samples = make({{"datasets", {"all"}}})->load(kRoot);  // ObjectShuffle.json is broken JSON
  auto m = by_id(samples);
  EXPECT_EQ(samples.size(), 9u);
  EXPECT_NE(m.at("ObjectShuffle/ObjectShuffle.json").error.find("invalid JSON"), std::string::npos);
  EXPECT_NE(m.at("ActionSequence/1").error.find("missing image"), std::string::npos) << m.at("ActionSequence/1").error;
  EXPECT_NE(m.at("ActionSequence/1").error.find("as_1_missing.png"), std::string::npos);
  EXPECT_NE(m.at("ActionSequence/2").error.find("not one of choice_list"), std::string::npos)
      << m.at("ActionSequence/2").error;
  for (const char* ok : {"ActionSequence/0", "ActionSequence/3", "WebQA/7", "GPR1200/0", "TextNeedleInAHaystack/0", "MMCoQA/0"})
    EXPECT_TRUE(m.at(ok).error.empty()) << ok << ": " << m.at(ok).error;
}

TEST(MileBench, NamedMissingOrBrokenDatasetIsAnError) {
  EXPECT_THROW(make({{"datasets", {"ALFRED"}}})->load(kRoot), kvb::Error);
  EXPECT_THROW(make({{"datasets", {"ObjectShuffle"}}})->load(kRoot), kvb::Error);
  EXPECT_THROW(make({{"datasets", {"NoSuchSet"}}}), kvb::UsageError);
  EXPECT_THROW(make({{"datasets", {"all"}}})->load(kRoot + "/nope"), kvb::Error);
}

TEST(MileBench, ScoringRulesPerDataset) {
  auto b = make({{"datasets", {"all"}}});
  auto m = by_id(b->load(kRoot));
  auto sc = [&](const char* id, const char* pred) { return b->score(m.at(id), pred).score; };
  EXPECT_EQ(sc("ActionSequence/0", "B"), 1);
  EXPECT_EQ(sc("ActionSequence/0", "Picked up the cup"), 1);
  EXPECT_EQ(sc("ActionSequence/0", "The answer is (B)."), 0);  // fallback gives "AB"
  EXPECT_EQ(b->score(m.at("ActionSequence/0"), "The answer is (B).").extracted, "AB");
  EXPECT_EQ(sc("ActionSequence/3", ""), 0);  // empty answer counts as 'C'
  EXPECT_EQ(sc("GPR1200/0", "The answer is {image#3}"), 1);
  EXPECT_EQ(sc("TextNeedleInAHaystack/0", "The password is 7421."), 1);
  EXPECT_EQ(sc("TextNeedleInAHaystack/0", "74215"), 0);  // a whole word is required
  EXPECT_EQ(sc("MMCoQA/0", "It was in Paris, France."), 1);
  EXPECT_EQ(sc("MMCoQA/0", "Lyon"), 0);
  EXPECT_NEAR(sc("WebQA/7", "The roof is red."), 2.0 / (2.0 + 1e-8), 1e-12);
  EXPECT_NEAR(sc("WebQA/7", "red"), 2.0 * 0.25 / (1.25 + 1e-8), 1e-12);
  EXPECT_EQ(sc("WebQA/7", "..."), 0);
}

TEST(MileBench, GroupAggregation) {
  auto b = make({{"datasets", {"all"}}});
  auto rec = [](const char* g, double s, bool failed = false, int64_t n_images = 2) {
    kvb::ScoredRecord r;
    r.group = g, r.score = s, r.failed = failed, r.meta = {{"n_images", n_images}};
    return r;
  };
  std::vector<kvb::ScoredRecord> rs = {
      rec("ActionLocalization", 1, false, 6), rec("ActionLocalization", 0, false, 5), rec("ActionPrediction", 1),
      rec("ActionSequence", 0), rec("ActionSequence", 1, true), rec("ObjectShuffle", 1), rec("WebQA", 0.5),
      rec("TextNeedleInAHaystack", 1), rec("ImageNeedleInAHaystack", 0), rec("GPR1200", 1)};
  auto a = b->aggregate(rs);
  // T-1 = mean(50, 100, 0); T-2 = ObjectShuffle; T = mean(T-1, T-2); S-1 = S = WebQA.
  EXPECT_DOUBLE_EQ(a["groups"]["T-1"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(a["groups"]["T-2"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(a["groups"]["T"].get<double>(), 75);
  EXPECT_DOUBLE_EQ(a["groups"]["S-1"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(a["groups"]["S"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(a["groups"]["NH"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(a["groups"]["IR"].get<double>(), 100);
  EXPECT_FALSE(a["groups"].contains("T-3"));
  EXPECT_DOUBLE_EQ(a["overall"].get<double>(), 62.5);  // mean over the 8 datasets with scores
  EXPECT_EQ(a["n"], 10);
  EXPECT_EQ(a["failed"], 1);
  EXPECT_EQ(a["datasets"]["ActionSequence"]["failed"], 1);
  EXPECT_EQ(b->expected_groups().size(), 29u);
  // evaluate.py levels by image count: < 6 Few, > 31 Many, else Medium.
  EXPECT_DOUBLE_EQ(a["datasets"]["ActionLocalization"]["image_quantity_level"]["Medium"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(a["datasets"]["ActionLocalization"]["image_quantity_level"]["Few"].get<double>(), 0);
}

// Group membership, transcribed from outside sources: the coarse split is score.py's
// dataset_list (MileBench/MileBench @ b2979ac), the 29 names are eval.sh's loop, and the
// sub-groups are the paper's taxonomy (arXiv 2404.18532, Fig. 2). Each dataset alone must land
// in exactly its sub-group, and the T-/S- sub-groups must cover score.py's lists exactly.
TEST(MileBench, GroupMembershipMatchesOfficialTaxonomy) {
  const std::vector<std::string> temporal = {  // score.py 'Realistic Temporal'
      "ActionLocalization", "ActionPrediction", "ActionSequence", "CharacterOrder", "CounterfactualInference",
      "EgocentricNavigation", "MovingAttribute", "MovingDirection", "ObjectExistence", "ObjectInteraction",
      "ObjectShuffle", "SceneTransition", "StateChange"};
  const std::vector<std::string> semantic = {  // score.py 'Realistic Semantic'
      "ALFRED", "CLEVR-Change", "DocVQA", "IEdit", "MMCoQA", "MultiModalQA", "nuscenes",
      "OCR-VQA", "SlideVQA", "Spot-the-Diff", "TQA", "WebQA", "WikiVQA"};
  const std::map<std::string, std::string> paper = {
      {"ActionLocalization", "T-1"}, {"ActionPrediction", "T-1"}, {"ActionSequence", "T-1"},
      {"ObjectExistence", "T-2"}, {"ObjectInteraction", "T-2"}, {"MovingAttribute", "T-2"},
      {"ObjectShuffle", "T-2"}, {"EgocentricNavigation", "T-3"}, {"MovingDirection", "T-3"},
      {"CounterfactualInference", "T-4"}, {"StateChange", "T-4"}, {"CharacterOrder", "T-4"},
      {"SceneTransition", "T-4"}, {"WebQA", "S-1"}, {"TQA", "S-1"}, {"MultiModalQA", "S-1"},
      {"WikiVQA", "S-1"}, {"SlideVQA", "S-2"}, {"OCR-VQA", "S-2"}, {"DocVQA", "S-2"},
      {"CLEVR-Change", "S-3"}, {"Spot-the-Diff", "S-3"}, {"IEdit", "S-3"}, {"MMCoQA", "S-4"},
      {"ALFRED", "S-4"}, {"nuscenes", "S-5"}, {"TextNeedleInAHaystack", "NH"},
      {"ImageNeedleInAHaystack", "NH"}, {"GPR1200", "IR"}};
  const std::vector<std::string> eval_sh = {  // eval.sh's dataset loop
      "ALFRED", "ActionLocalization", "ActionPrediction", "ActionSequence", "CLEVR-Change", "CharacterOrder",
      "CounterfactualInference", "DocVQA", "EgocentricNavigation", "GPR1200", "IEdit", "ImageNeedleInAHaystack",
      "MMCoQA", "MovingAttribute", "MovingDirection", "MultiModalQA", "OCR-VQA", "ObjectExistence",
      "ObjectInteraction", "ObjectShuffle", "SceneTransition", "SlideVQA", "Spot-the-Diff", "StateChange", "TQA",
      "TextNeedleInAHaystack", "WebQA", "WikiVQA", "nuscenes"};
  auto b = make({{"datasets", {"all"}}});
  std::vector<std::string> ours = b->expected_groups(), want = eval_sh;
  std::sort(ours.begin(), ours.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ours, want);
  ASSERT_EQ(paper.size(), 29u);
  for (const auto& [dataset, group] : paper) {
    kvb::ScoredRecord r;
    r.group = dataset, r.score = 1, r.meta = {{"n_images", 2}};
    auto groups = b->aggregate({r})["groups"];
    std::vector<std::string> fine;
    for (const auto& [g, v] : groups.items())
      if (g.size() > 1) fine.push_back(g);  // leave out the "T" / "S" means
    EXPECT_EQ(fine, std::vector<std::string>{group}) << dataset;
    const bool t = std::count(temporal.begin(), temporal.end(), dataset) > 0;
    const bool s = std::count(semantic.begin(), semantic.end(), dataset) > 0;
    EXPECT_EQ(groups.contains("T"), t) << dataset;
    EXPECT_EQ(groups.contains("S"), s) << dataset;
    EXPECT_EQ(group[0] == 'T', t) << dataset;
    EXPECT_EQ(group[0] == 'S', s) << dataset;
  }
}
