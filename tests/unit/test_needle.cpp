// The synthetic needle benchmark: seeded determinism, haystack sizes, needle placement and the
// exact-match rule (MileBench's needle rule on normalised answers).
#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/unit/error_text.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/text_norm.h"
#include "vision/image.h"

#include <array>
#include <map>
#include <set>

namespace {
std::unique_ptr<kvb::Benchmark> make(const nlohmann::json& cfg) {
  return kvb::Registry<kvb::Benchmark>::instance().create("needle", cfg);
}
std::string all_text(const kvb::Sample& s) {
  std::string t;
  for (const auto& seg : s.messages.at(0).content)
    if (seg.kind == kvb::Segment::Kind::Text) t += seg.text;
  return t;
}
std::vector<const kvb::MediaRef*> images(const kvb::Sample& s) {
  std::vector<const kvb::MediaRef*> out;
  for (const auto& seg : s.messages.at(0).content)
    if (seg.kind == kvb::Segment::Kind::Image) out.push_back(&seg.media);
  return out;
}
size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

#ifdef KVB_WITH_OPENCV
// The named colour nearest to a picture's brightest pixel (the shape's, on a dark background):
// the answer read back from the pixels, not from the generator's bookkeeping.
std::string colour_of(const kvb::MediaRef& m) {
  static const std::map<std::string, std::array<int, 3>> rgb = {
      {"red", {220, 30, 30}}, {"green", {30, 200, 40}}, {"blue", {40, 60, 230}}, {"yellow", {230, 220, 30}}, {"white", {235, 235, 235}}};
  const kvb::Image im = kvb::decode_image_bytes(m.bytes, m.label);
  const at::Tensor px = im.rgb.reshape({-1, 3}).to(at::kInt);
  const at::Tensor shape_px = px.index_select(0, px.sum(1).argmax().reshape({1}))[0];
  std::string best;
  int64_t best_d = INT64_MAX;
  for (const auto& [name, c] : rgb) {
    int64_t d = 0;
    for (int k = 0; k < 3; ++k) d += std::abs(shape_px[k].item<int>() - c[k]);
    if (d < best_d) best_d = d, best = name;
  }
  return best;
}

// The shape read back from the pixels: the share of its bounding box the bright pixels fill
// (square ~1, circle ~pi/4, triangle ~1/2); the background is at most 60 grey.
std::string shape_of(const kvb::MediaRef& m) {
  const kvb::Image im = kvb::decode_image_bytes(m.bytes, m.label);
  const at::Tensor on = im.rgb.to(at::kInt).amax(2) > 100;  // [H, W]
  const at::Tensor rows = on.any(1).nonzero(), cols = on.any(0).nonzero();
  const double box = static_cast<double>((rows.max() - rows.min() + 1).item<int64_t>() * (cols.max() - cols.min() + 1).item<int64_t>());
  const double fill = static_cast<double>(on.sum().item<int64_t>()) / box;
  return fill > 0.9 ? "square" : fill > 0.65 ? "circle" : "triangle";
}
#endif
}  // namespace

TEST(Needle, SameSeedSameSamplesOtherSeedOthers) {
  nlohmann::json cfg = {{"samples", 3}, {"images", 2}, {"image_size", 48}, {"seed", 11}};
  auto a = make(cfg)->load(""), b = make(cfg)->load("ignored");
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].answer, b[i].answer);
    EXPECT_EQ(all_text(a[i]), all_text(b[i]));
    auto ia = images(a[i]), ib = images(b[i]);
    ASSERT_EQ(ia.size(), ib.size());
    for (size_t k = 0; k < ia.size(); ++k) EXPECT_EQ(ia[k]->bytes, ib[k]->bytes) << a[i].id << " image " << k;
  }
  cfg["seed"] = 12;
  auto c = make(cfg)->load("");
  EXPECT_NE(all_text(a[0]), all_text(c[0]));
  // Sample i does not depend on how many samples are drawn.
  cfg["seed"] = 11, cfg["samples"] = 1;
  EXPECT_EQ(all_text(make(cfg)->load("")[0]), all_text(a[0]));
}

TEST(Needle, TextNeedleAppearsOnceAndSizesFollowConfig) {
  for (int64_t tokens : {301, 1000, 16000}) {
    auto s = make({{"samples", 1}, {"needle_in", "text"}, {"images", 0}, {"min_tokens", tokens}, {"max_tokens", tokens}})
                 ->load("")[0];
    const std::string t = all_text(s);
    EXPECT_EQ(s.group, "text");
    EXPECT_EQ(s.answer.size(), 4u);
    EXPECT_EQ(count(t, "The secret code is " + s.answer + "."), 1u);
    EXPECT_EQ(count(t, s.answer), 1u);
    // Filler words: at least tokens * 3/4, and less than one sentence (<= 14 words) more; the
    // instruction (15 words), question (11) and needle sentence (5) come on top.
    const int64_t words = static_cast<int64_t>(kvb::text::split_ws(t).size()) - 15 - 11 - 5;
    EXPECT_GE(words * 4, tokens * 3) << tokens;
    EXPECT_LT(words * 4, tokens * 3 + 14 * 4) << tokens;
  }
}

TEST(Needle, ImageNeedleOrClearErrorWithoutOpenCV) {
#ifdef KVB_WITH_OPENCV
  auto samples = make({{"samples", 2}, {"needle_in", "image"}, {"images", 3}, {"image_size", 64}})->load("");
  for (const auto& s : samples) {
    EXPECT_EQ(s.group, "image");
    EXPECT_EQ(count(all_text(s), "secret code is"), 0u);
    EXPECT_EQ(count(all_text(s), s.answer), 0u);
    auto imgs = images(s);
    ASSERT_EQ(imgs.size(), 3u);
    for (const auto* m : imgs) {
      kvb::Image im = kvb::decode_image_bytes(m->bytes, m->label);
      EXPECT_EQ(im.height(), 64);
      EXPECT_EQ(im.width(), 64);
    }
  }
  // Mixed: even samples hide the code in text, odd ones in an image.
  auto mixed = make({{"samples", 4}})->load("");
  EXPECT_EQ(mixed[0].group, "text");
  EXPECT_EQ(mixed[1].group, "image");
  EXPECT_EQ(images(mixed[2]).size(), 2u);
#else
  EXPECT_THROW(make({{"needle_in", "image"}}), kvb::UsageError);
  auto s = make({{"samples", 2}})->load("");
  EXPECT_TRUE(images(s[1]).empty());
  EXPECT_EQ(s[1].group, "text");
#endif
}

TEST(Needle, ExactMatchScoring) {
  auto word = make({{"samples", 1}, {"needle_in", "text"}});
  auto s = word->load("")[0];
  const std::string code = s.answer;
  EXPECT_EQ(word->score(s, code).score, 1);
  EXPECT_EQ(word->score(s, "The secret code is " + code + ".").score, 1);
  EXPECT_EQ(word->score(s, code + "5").score, 0);
  EXPECT_EQ(word->score(s, "").score, 0);
  auto exact = make({{"samples", 1}, {"needle_in", "text"}, {"match", "exact"}});
  EXPECT_EQ(exact->score(s, " " + code + ".").score, 1);
  EXPECT_EQ(exact->score(s, "Code: " + code).score, 0);
}

TEST(Needle, ConfigErrorsAndAggregate) {
  EXPECT_THROW(make({{"min_tokens", 900}, {"max_tokens", 800}}), kvb::UsageError);
  EXPECT_THROW(make({{"haystack", 1}}), kvb::UsageError);
  EXPECT_THROW(make({{"needle_in", "audio"}}), kvb::UsageError);
  auto b = make({});
  std::vector<kvb::ScoredRecord> rs(4);
  rs[0].group = "text", rs[0].score = 1;
  rs[1].group = "text", rs[1].score = 0;
  rs[2].group = "image", rs[2].score = 1;
  rs[3].group = "image", rs[3].failed = true;
  auto a = b->aggregate(rs);
  EXPECT_DOUBLE_EQ(a["overall"].get<double>(), 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(a["groups"]["text"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(a["groups"]["image"].get<double>(), 100);
  EXPECT_EQ(a["failed"], 1);
}

// load() draws every sample before --limit applies: sizes that would run for hours are refused.
TEST(Needle, SizesAreBounded) {
  auto error = [](const nlohmann::json& cfg) { return kvb::test::error_text([&] { make(cfg); }); };
  EXPECT_EQ(error({{"samples", (int64_t{1} << 32) + 1}}), "benchmark 'needle': need 1 <= samples <= 100000");
  EXPECT_EQ(error({{"image_size", 1 << 20}}), "benchmark 'needle': need 0 <= images <= 64 and 32 <= image_size <= 4096");
  EXPECT_EQ(error({{"images", 100000}}), "benchmark 'needle': need 0 <= images <= 64 and 32 <= image_size <= 4096");
  EXPECT_EQ(make({{"samples", 100000}, {"needle_in", "text"}})->params()["samples"], 100000);
}

#ifdef KVB_WITH_OPENCV
// colour / colours: "Picture k:" before each picture, one shape of a named colour each; the
// colour asked is read back from the picture's pixels, so the answer is in the image, not the text.
TEST(Needle, PictureTasksLabelEveryPictureAndAskWhatItShows) {
  auto b = make({{"samples", 6}, {"tasks", {"colour", "colours"}}, {"min_pictures", 3}, {"max_pictures", 5},
                 {"picture_size", 56}, {"seed", 5}});
  const auto samples = b->load("");
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    EXPECT_EQ(s.group, i % 2 ? "colours" : "colour");
    const auto imgs = images(s);
    const std::string t = all_text(s);
    ASSERT_GE(imgs.size(), 3u);
    ASSERT_LE(imgs.size(), 5u);
    for (const auto* m : imgs) EXPECT_EQ(kvb::decode_image_bytes(m->bytes, m->label).height(), 56);
    for (size_t k = 0; k < imgs.size(); ++k) EXPECT_EQ(count(t, "Picture " + std::to_string(k + 1) + ": "), 1u) << t;
    std::vector<std::string> shown;
    for (const auto* m : imgs) shown.push_back(colour_of(*m));
    if (s.group == "colour") {
      const int asked = s.meta.at("asked").get<int>();
      EXPECT_EQ(count(t, "What colour is the shape in picture " + std::to_string(asked) + "?"), 1u);
      EXPECT_EQ(s.answer, shown.at(static_cast<size_t>(asked - 1)));
      EXPECT_EQ(b->score(s, "It is " + s.answer + ".").score, 1);
    } else {
      std::string all;
      for (const auto& c : shown) all += (all.empty() ? "" : " ") + c;
      EXPECT_EQ(s.answer, all);
      // The list must be whole and in order.
      EXPECT_EQ(b->score(s, s.answer + ".").score, 1);
      EXPECT_EQ(b->score(s, shown[0]).score, 0);
    }
  }
  EXPECT_EQ(b->expected_groups(), (std::vector<std::string>{"colour", "colours"}));
}
#endif

#ifdef KVB_WITH_OPENCV
// shape: the shape asked about is on the asked picture alone and the answer is that picture's
// colour, both read back from the pixels. With asked_shapes, the questions name those shapes only
// (["circle"]: one question for every sample).
TEST(Needle, ShapeTaskAsksAboutTheOnlyPictureOfItsShape) {
  for (const nlohmann::json& asked_list : {nlohmann::json(nullptr), nlohmann::json{"circle"}, nlohmann::json{"triangle", "square"}}) {
    nlohmann::json cfg = {{"samples", 9}, {"tasks", {"shape"}}, {"min_pictures", 2}, {"max_pictures", 6}, {"picture_size", 56}, {"seed", 7}};
    if (!asked_list.is_null()) cfg["asked_shapes"] = asked_list;
    const auto b = make(cfg);
    std::map<std::string, int> asked_shapes;
    for (const auto& s : b->load("")) {
      EXPECT_EQ(s.group, "shape");
      const auto imgs = images(s);
      const std::string t = all_text(s);
      const auto asked = static_cast<size_t>(s.meta.at("asked").get<int>() - 1);
      const std::string shape = shape_of(*imgs.at(asked));
      ++asked_shapes[shape];
      EXPECT_EQ(count(t, "Question: What colour is the " + shape + "?"), 1u) << t;
      ASSERT_EQ(s.meta.at("colours").size(), imgs.size());
      for (size_t k = 0; k < imgs.size(); ++k) {
        if (k != asked) EXPECT_NE(shape_of(*imgs[k]), shape) << s.id << " picture " << k + 1;
        // The records name every picture's colour and shape, so a wrong answer can be traced
        // to the picture it came from.
        EXPECT_EQ(s.meta["colours"][k], colour_of(*imgs[k])) << s.id << " picture " << k + 1;
        EXPECT_EQ(s.meta["shapes"][k], shape_of(*imgs[k])) << s.id << " picture " << k + 1;
      }
      EXPECT_EQ(s.answer, colour_of(*imgs[asked]));
      EXPECT_EQ(b->score(s, "It is " + s.answer + ".").score, 1);
    }
    // Each shape allowed gets asked, and no other.
    EXPECT_EQ(asked_shapes.size(), asked_list.is_null() ? 3u : asked_list.size()) << asked_list;
    for (const auto& name : asked_list.is_null() ? nlohmann::json::array() : asked_list)
      EXPECT_TRUE(asked_shapes.count(name.get<std::string>())) << name;
  }
}
#endif

#ifdef KVB_WITH_OPENCV
// common_shape: every picture shows the same shape, read back from the pixels, and that shape is
// the answer; over the samples each of the three shapes is drawn.
TEST(Needle, CommonShapeTaskAsksTheShapeEveryPictureShows) {
  const auto b = make({{"samples", 11}, {"tasks", {"common_shape"}}, {"min_pictures", 2}, {"max_pictures", 5}, {"seed", 5}});
  std::set<std::string> answers;
  for (const auto& s : b->load("")) {
    EXPECT_EQ(s.group, "common_shape");
    const auto imgs = images(s);
    ASSERT_GE(imgs.size(), 2u);
    for (size_t k = 0; k < imgs.size(); ++k) EXPECT_EQ(shape_of(*imgs[k]), s.answer) << s.id << " picture " << k + 1;
    EXPECT_EQ(count(all_text(s), "Question: What shape do all the pictures show?"), 1u);
    EXPECT_EQ(b->score(s, "A " + s.answer + ".").score, 1);
    answers.insert(s.answer);
  }
  EXPECT_EQ(answers, (std::set<std::string>{"circle", "square", "triangle"}));
}
#endif

TEST(Needle, TaskListErrors) {
  auto error = [](const nlohmann::json& cfg) { return kvb::test::error_text([&] { make(cfg); }); };
  EXPECT_EQ(error({{"tasks", {"code", "count"}}}),
            "benchmark 'needle': unknown task 'count' in tasks (accepted: code, colour, shape, common_shape, colours, majority, quiz)");
  EXPECT_EQ(error({{"tasks", nlohmann::json::array()}}),
            "benchmark 'needle': tasks must list at least one of code, colour, shape, common_shape, colours, majority, quiz");
  EXPECT_EQ(error({{"questions", 0}}), "benchmark 'needle': need 1 <= questions <= 16");
  EXPECT_EQ(error({{"repeat_sentences", 0.95}}), "benchmark 'needle': need 0 <= repeat_sentences <= 0.9");
  EXPECT_EQ(error({{"min_pictures", 4}, {"max_pictures", 2}}), "benchmark 'needle': need 1 <= min_pictures <= max_pictures <= 64");
  EXPECT_EQ(error({{"asked_shapes", {"circle", "star"}}}),
            "benchmark 'needle': unknown shape 'star' in asked_shapes (accepted: circle, square, triangle)");
  EXPECT_EQ(error({{"asked_shapes", nlohmann::json::array()}}),
            "benchmark 'needle': asked_shapes must list at least one of circle, square, triangle");
}

// With the model's tokenizer attached, haystack sizes are in its tokens.
TEST(Needle, LengthsInModelTokensWithATokenizer) {
  auto b = make({{"samples", 2}, {"needle_in", "text"}, {"images", 0}, {"min_tokens", 700}, {"max_tokens", 700}});
  b->set_tokenizer({[](const std::string& t) { return std::vector<int64_t>(t.size(), 1); },  // one token a byte
                    [](const std::vector<int64_t>&) { return std::string(); }});
  for (const auto& s : b->load("")) {
    const int64_t bytes = static_cast<int64_t>(all_text(s).size());
    // Filler >= 700 bytes, less one sentence (<= 14 words of <= 9 letters) more; plus the
    // instruction, needle sentence and question (under 200 bytes).
    EXPECT_GE(bytes, 700) << s.id;
    EXPECT_LT(bytes, 700 + 14 * 10 + 200) << s.id;
  }
}

#ifdef KVB_WITH_OPENCV
// majority: one colour is on more pictures than any other, and it is the answer. quiz: a picture
// haystack that also holds a code, asked in turns; every earlier turn carries its right answer
// (what the trainer supervises) and the last one is the sample's answer.
TEST(Needle, MajorityAndQuizAnswerWhatThePicturesShow) {
  auto b = make({{"samples", 14}, {"tasks", {"majority", "quiz"}}, {"min_pictures", 2}, {"max_pictures", 6},
                 {"min_tokens", 60}, {"max_tokens", 120}, {"questions", 3}, {"seed", 9}});
  std::map<std::string, int> kinds;
  for (const auto& s : b->load("")) {
    std::map<std::string, int> tally;
    std::vector<std::string> shown;
    for (const auto* m : images(s)) shown.push_back(colour_of(*m)), ++tally[shown.back()];
    int top = 0, at_top = 0;
    std::string most;
    for (const auto& [c, n] : tally) {
      if (n > top) top = n, at_top = 1, most = c;
      else if (n == top) ++at_top;
    }
    ASSERT_EQ(at_top, 1) << s.id << ": no unique majority";
    if (s.group == "majority") {
      ASSERT_EQ(s.messages.size(), 1u);
      EXPECT_EQ(s.answer, most);
      EXPECT_NE(all_text(s).find("Which colour do most of the shapes have?"), std::string::npos);
      continue;
    }
    ASSERT_EQ(s.group, "quiz");
    const std::string hay = all_text(s);
    const size_t at = hay.find("The secret code is ");
    ASSERT_NE(at, std::string::npos) << hay;
    EXPECT_EQ(count(hay, "The secret code is "), 1u);
    const std::string code = hay.substr(at + 19, 4);
    // user(haystack + Q1), assistant(A1), user(Q2), assistant(A2), user(Q3); answer A3.
    ASSERT_EQ(s.messages.size(), 5u);
    for (size_t q = 0; q < 3; ++q) {
      const auto& ask = s.messages[2 * q];
      EXPECT_EQ(ask.role, "user");
      std::string question = ask.content.back().text;
      question = question.substr(question.rfind('\n') == std::string::npos ? 0 : question.rfind('\n') + 1);
      const std::string answer = q < 2 ? s.messages[2 * q + 1].content.at(0).text : s.answer;
      if (q < 2) EXPECT_EQ(s.messages[2 * q + 1].role, "assistant");
      if (question.find("secret code") != std::string::npos) {
        EXPECT_EQ(answer, code);
        ++kinds["code"];
      } else if (question.find("most of the shapes") != std::string::npos) {
        EXPECT_EQ(answer, most);
        ++kinds["majority"];
      } else {
        const size_t p = question.find("in picture ");
        ASSERT_NE(p, std::string::npos) << question;
        EXPECT_EQ(answer, shown.at(static_cast<size_t>(std::stoi(question.substr(p + 11)) - 1))) << question;
        ++kinds["colour"];
      }
    }
  }
  EXPECT_EQ(kinds.size(), 3u);  // every kind of question came up
}
#endif

// repeat_sentences copies earlier filler sentences word for word (the trainer's induction
// signal); without it no sentence repeats, and the samples are those drawn before it existed.
TEST(Needle, RepeatedSentencesOnlyWhenAsked) {
  auto sentences = [](const nlohmann::json& extra) {
    nlohmann::json cfg = {{"samples", 1}, {"needle_in", "text"}, {"images", 0}, {"min_tokens", 501}, {"max_tokens", 501}};
    cfg.update(extra);
    const std::string t = all_text(make(cfg)->load("")[0]);
    std::map<std::string, int> n;
    for (size_t from = 0, dot; (dot = t.find(". ", from)) != std::string::npos; from = dot + 2) ++n[t.substr(from, dot - from)];
    int repeats = 0;
    for (const auto& [_, k] : n) repeats += k - 1;
    return std::pair{repeats, t};
  };
  const auto [none, plain] = sentences(nlohmann::json::object());
  EXPECT_EQ(none, 0);
  EXPECT_EQ(sentences({{"repeat_sentences", 0.0}}).second, plain);
  EXPECT_GE(sentences({{"repeat_sentences", 0.5}}).first, 5);
}

// answers "sentence": the question asks for a sentence, the sample carries the reply a model is
// taught (meta.reply), and the scorer still looks for the key word in whatever is generated.
TEST(Needle, SentenceAnswersKeepTheKeyScoring) {
  auto shortq = make({{"samples", 1}, {"needle_in", "text"}, {"images", 0}})->load("")[0];
  EXPECT_NE(all_text(shortq).find("What is the secret code? Answer with the code only."), std::string::npos);
  EXPECT_FALSE(shortq.meta.contains("reply"));
  auto b = make({{"samples", 1}, {"needle_in", "text"}, {"images", 0}, {"answers", "sentence"}});
  EXPECT_EQ(b->max_new_tokens(), 48);
  const auto s = b->load("")[0];
  EXPECT_EQ(s.answer, shortq.answer);  // same haystack, same code
  EXPECT_NE(all_text(s).find("What is the secret code? Answer in a sentence."), std::string::npos);
  EXPECT_EQ(s.meta.at("reply"), "The secret code is " + s.answer + ".");
  EXPECT_EQ(b->score(s, s.meta.at("reply").get<std::string>()).score, 1);
  EXPECT_EQ(b->score(s, "The secret code is 1234x.").score, 0);
  EXPECT_EQ(kvb::test::error_text([] { make({{"answers", "long"}}); }).find("benchmark 'needle'"), 0u);
  // code_digits sets the code's length; 4 (the default) draws the codes drawn before it existed.
  auto two = make({{"samples", 5}, {"needle_in", "text"}, {"images", 0}, {"code_digits", 2}})->load("");
  for (const auto& t : two) EXPECT_TRUE(t.answer.size() == 2 && t.answer[0] != '0') << t.answer;
  EXPECT_EQ(make({{"samples", 1}, {"needle_in", "text"}, {"images", 0}, {"code_digits", 4}})->load("")[0].answer, shortq.answer);
  EXPECT_EQ(kvb::test::error_text([] { make({{"code_digits", 0}}); }), "benchmark 'needle': need 1 <= code_digits <= 9");
}
