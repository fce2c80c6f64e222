// needle: synthetic multimodal retrieval tasks for CPU demos and for training the organism
// (ours, not a published set). Each sample is a filler-text haystack of a configured size with
// images interleaved. Tasks (samples cycle through the configured list):
//   code     one secret code hidden as a sentence in the text or written in one of the images
//            (needle_in), asked at the end;
//   colour   "Picture k:" labels before pictures of one coloured shape each; the colour of one
//            picture is asked (one needle among several images);
//   shape    the same haystack, one picture's shape (circle, square, triangle) on no other
//            picture; that shape's colour is asked: a needle found by what the picture shows,
//            not by its label (asked_shapes: the shapes asked about);
//   colours  the same haystack; the colours of all pictures in order are asked (aggregation:
//            the answer needs every picture, so keeping a few heavy hitters is not enough);
//   common_shape  the same haystack, every picture showing one shape (circle, square, triangle);
//            that shape is asked: seeing a shape, with every picture a training signal (a
//            probe; trained before the shape task, it slowed the organism's circle down);
//   majority the same haystack, one colour drawn on more pictures than any other; that colour is
//            asked (aggregation a small model learns: a count over every picture, one word out);
//   quiz     a picture haystack that also holds a secret code, asked `questions` questions in
//            turns (each a code, colour or majority question; the last one is scored). One
//            context answers several questions, which is how the organism is trained cheaply and
//            how question-aware compression is tested on follow-up questions.
// Everything derives from `seed`: same seed, same samples. No data root is read. Scoring is on
// the MileBench-normalised answer: the code or colour as a word of it (or exact), the colour
// list exactly.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "benchmarks/needle_draw.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/group_accuracy.h"
#include "eval/text_norm.h"

namespace kvb {

#ifndef KVB_WITH_OPENCV
namespace needle {
bool images_available() { return false; }
std::string draw_png(const std::string&, int, uint32_t) {
  throw Error("needle: image haystacks need OpenCV (this build has -DKVB_WITH_OPENCV=OFF)");
}
}  // namespace needle
#endif

namespace {

const char* const kWords[] = {
    "river", "garden", "window", "morning", "quiet", "market", "bridge", "yellow", "letter", "mountain",
    "simple", "village", "paper", "summer", "travel", "distant", "careful", "library", "engine", "forest",
    "silver", "harbor", "winter", "pencil", "kitchen", "orange", "station", "ancient", "gentle", "meadow",
    "captain", "thunder", "basket", "island", "valley", "crystal", "shadow", "lantern", "festival", "castle",
    "walked", "noticed", "carried", "painted", "watched", "gathered", "followed", "opened", "remembered", "built",
    "the", "a", "of", "near", "under", "with", "before", "after", "slowly", "every"};
constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
const char* const kInstruction =
    "Read the following document and its images. Somewhere in it there is a secret code.";
const char* const kPictureInstruction = "Read the following document and look at its pictures.";

struct Colour {
  const char* name;
  std::array<int, 3> rgb;
};
// Far apart in RGB, so a colour is one answer whatever the jitter.
const Colour kColours[] = {{"red", {220, 30, 30}}, {"green", {30, 200, 40}}, {"blue", {40, 60, 230}},
                           {"yellow", {230, 220, 30}}, {"white", {235, 235, 235}}};
constexpr size_t kNumColours = sizeof(kColours) / sizeof(kColours[0]);

// needle::Shape's order.
const char* const kShapeNames[] = {"circle", "square", "triangle"};
constexpr size_t kNumShapes = sizeof(kShapeNames) / sizeof(kShapeNames[0]);

// needle::Shape's index of a shape name; kNumShapes for none.
size_t shape_index(const std::string& name) {
  return static_cast<size_t>(std::find(std::begin(kShapeNames), std::end(kShapeNames), name) - std::begin(kShapeNames));
}

constexpr int64_t kMaxSamples = 100000;

const std::vector<std::string> kTasks = {"code", "colour", "shape", "common_shape", "colours", "majority", "quiz"};

struct Config {
  int64_t samples = 10;
  int64_t seed = 2024;
  int64_t min_tokens = 300;  // haystack size drawn per sample in [min_tokens, max_tokens]
  int64_t max_tokens = 600;  // (estimated: words x 4/3)
  int64_t images = 2;        // images per haystack
  int64_t image_size = 112;  // pixels per side
  std::string needle_in = "mixed";  // text | image | mixed (alternating)
  std::string match = "word";       // word: the code is a word of the answer; exact: the answer is the code
  std::vector<std::string> tasks{"code"};  // code | colour | shape | common_shape | colours | majority | quiz, cycled
  int64_t questions = 3;                   // quiz: questions per haystack
  int64_t min_pictures = 3, max_pictures = 5;  // colour tasks: pictures per haystack
  int64_t picture_size = 56;                  // pixels per side (56: 4 tokens with Qwen2.5-VL)
  int64_t max_new_tokens = 8;  // 48 with answers "sentence"
  // short: "Answer with the code only." (the code, a colour word); sentence: "Answer in a
  // sentence." ("The secret code is 4821."), scored on the same key word. A sentence starts with
  // the words that precede the key in the context, so copying it is in-context induction.
  std::string answers = "short";
  int64_t code_digits = 4;  // the secret code's length (no leading zero)
  // shape: the shapes a question may ask about. One ("circle") makes the question the same on
  // every sample, so the picture is found by what it shows alone, as the code is found by "code".
  std::vector<std::string> asked_shapes{"circle", "square", "triangle"};
  // Chance that a filler sentence repeats an earlier one word for word. A training stream's
  // option: the next-token loss over a repeat can only be lowered by copying from the context,
  // which is the skill every task needs (0 keeps the plain haystacks of evaluation).
  double repeat_sentences = 0;
};

class Needle : public Benchmark {
 public:
  explicit Needle(const json& j) {
    ConfigReader r(j, "benchmark 'needle'");
    r.get("samples", cfg_.samples).get("seed", cfg_.seed).get("min_tokens", cfg_.min_tokens);
    r.get("max_tokens", cfg_.max_tokens).get("images", cfg_.images).get("image_size", cfg_.image_size);
    r.get_choice("needle_in", cfg_.needle_in, {"text", "image", "mixed"});
    r.get_choice("match", cfg_.match, {"word", "exact"});
    r.get("tasks", cfg_.tasks).get("min_pictures", cfg_.min_pictures).get("max_pictures", cfg_.max_pictures);
    r.get("picture_size", cfg_.picture_size).get("max_new_tokens", cfg_.max_new_tokens);
    r.get("repeat_sentences", cfg_.repeat_sentences).get("questions", cfg_.questions);
    r.get_choice("answers", cfg_.answers, {"short", "sentence"}).get("code_digits", cfg_.code_digits);
    r.get("asked_shapes", cfg_.asked_shapes);
    if (cfg_.answers == "sentence" && !j.contains("max_new_tokens")) cfg_.max_new_tokens = 48;
    r.finish();
    auto bad = [](const std::string& m) { throw UsageError("benchmark 'needle': " + m); };
    // load() draws every sample (images included) before --limit picks the first ones.
    if (cfg_.samples < 1 || cfg_.samples > kMaxSamples) bad(fmt::format("need 1 <= samples <= {}", kMaxSamples));
    if (cfg_.min_tokens < 50 || cfg_.max_tokens < cfg_.min_tokens || cfg_.max_tokens > 65536)
      bad("need 50 <= min_tokens <= max_tokens <= 65536");
    if (cfg_.images < 0 || cfg_.images > 64 || cfg_.image_size < 32 || cfg_.image_size > 4096)
      bad("need 0 <= images <= 64 and 32 <= image_size <= 4096");
    if (cfg_.needle_in != "text" && cfg_.images < 1) bad("needle_in '" + cfg_.needle_in + "' needs images >= 1");
    const std::string accepted = fmt::format("{}", fmt::join(kTasks, ", "));
    if (cfg_.tasks.empty()) bad("tasks must list at least one of " + accepted);
    if (cfg_.questions < 1 || cfg_.questions > 16) bad("need 1 <= questions <= 16");
    if (cfg_.code_digits < 1 || cfg_.code_digits > 9) bad("need 1 <= code_digits <= 9");
    const std::string shapes = fmt::format("{}", fmt::join(kShapeNames, ", "));
    if (cfg_.asked_shapes.empty()) bad("asked_shapes must list at least one of " + shapes);
    for (const auto& a : cfg_.asked_shapes)
      if (shape_index(a) == kNumShapes)
        bad("unknown shape '" + a + "' in asked_shapes (accepted: " + shapes + ")");
    if (!(cfg_.repeat_sentences >= 0 && cfg_.repeat_sentences <= 0.9)) bad("need 0 <= repeat_sentences <= 0.9");
    bool pictures = false;
    for (const auto& t : cfg_.tasks) {
      if (std::find(kTasks.begin(), kTasks.end(), t) == kTasks.end())
        bad("unknown task '" + t + "' in tasks (accepted: " + accepted + ")");
      pictures |= t != "code";
    }
    if (cfg_.min_pictures < 1 || cfg_.max_pictures < cfg_.min_pictures || cfg_.max_pictures > 64)
      bad("need 1 <= min_pictures <= max_pictures <= 64");
    if (cfg_.picture_size < 28 || cfg_.picture_size > 1024) bad("need 28 <= picture_size <= 1024");
    if (cfg_.max_new_tokens < 1 || cfg_.max_new_tokens > 4096) bad("need 1 <= max_new_tokens <= 4096");
    if (pictures && !needle::images_available())
      bad("the colour tasks need OpenCV, and this build has -DKVB_WITH_OPENCV=OFF; use tasks [\"code\"]");
    if (!needle::images_available()) {
      if (cfg_.needle_in == "image")
        bad("needle_in 'image' needs OpenCV, and this build has -DKVB_WITH_OPENCV=OFF; use needle_in 'text'");
      if (cfg_.images > 0)
        spdlog::info("needle: built without OpenCV, so the haystacks are text only (no images)");
      cfg_.needle_in = "text", cfg_.images = 0;
    }
  }

  std::vector<Sample> load(const std::string& /*data_root: nothing to read*/) const override {
    std::vector<Sample> out;
    for (int64_t i = 0; i < cfg_.samples; ++i) out.push_back(make_sample(i));
    return out;
  }

  void set_tokenizer(TokenCodec codec) override { codec_ = std::move(codec); }

  std::vector<std::string> expected_groups() const override {
    std::set<std::string> groups;
    for (int64_t i = 0; i < cfg_.samples && i < 2 * static_cast<int64_t>(cfg_.tasks.size()); ++i) groups.insert(group_of(i));
    return {groups.begin(), groups.end()};
  }
  int64_t max_new_tokens() const override { return cfg_.max_new_tokens; }

  SampleScore score(const Sample& s, const std::string& prediction) const override {
    SampleScore out;
    out.extracted = text::milebench_normalize(prediction);
    if (s.group == "colours") {  // the whole list, in order (inside its sentence when asked for one)
      out.score = out.extracted == (cfg_.answers == "sentence" ? text::milebench_normalize(reply_of(s)) : s.answer);
    } else if (cfg_.match == "exact") {
      out.score = out.extracted == s.answer;
    } else {
      auto words = text::split_ws(out.extracted);
      out.score = std::find(words.begin(), words.end(), s.answer) != words.end();
    }
    return out;
  }

  json aggregate(const std::vector<ScoredRecord>& records) const override {
    const GroupAccuracy t = tally_by_group(records);
    return {{"unit", "percent exact match"},
            {"overall", t.n ? json(t.overall_percent()) : json(nullptr)},
            {"groups", t.group_percent()}, {"n", static_cast<int64_t>(records.size())}, {"failed", t.failed}};
  }

  json params() const override {
    return {{"samples", cfg_.samples}, {"seed", cfg_.seed}, {"min_tokens", cfg_.min_tokens},
            {"max_tokens", cfg_.max_tokens}, {"images", cfg_.images}, {"image_size", cfg_.image_size},
            {"needle_in", cfg_.needle_in}, {"match", cfg_.match}, {"tasks", cfg_.tasks},
            {"min_pictures", cfg_.min_pictures}, {"max_pictures", cfg_.max_pictures},
            {"picture_size", cfg_.picture_size}, {"max_new_tokens", cfg_.max_new_tokens},
            {"repeat_sentences", cfg_.repeat_sentences}, {"questions", cfg_.questions}, {"answers", cfg_.answers},
            {"code_digits", cfg_.code_digits}, {"asked_shapes", cfg_.asked_shapes}};
  }

 private:
  // Per-sample generator, so sample i does not depend on how many samples are drawn. Only raw
  // mt19937 output is used (its sequence is fixed by the standard; distributions are not).
  const std::string& task_of(int64_t index) const { return cfg_.tasks[static_cast<size_t>(index) % cfg_.tasks.size()]; }
  // With several tasks, the code task's text/image alternation counts its own samples only.
  bool code_in_image(int64_t index) const {
    const int64_t k = index / static_cast<int64_t>(cfg_.tasks.size());
    return cfg_.needle_in == "image" || (cfg_.needle_in == "mixed" && k % 2 == 1);
  }
  std::string group_of(int64_t index) const {
    const std::string& t = task_of(index);
    return t == "code" ? (code_in_image(index) ? "image" : "text") : t;
  }

  // One question of a sample: what is asked, the key the scorer looks for, and the sentence that
  // answers it in "sentence" mode.
  struct Turn {
    std::string question, what, answer, sentence;
  };
  std::string question_of(const Turn& t) const {
    return t.question + (cfg_.answers == "sentence" ? " Answer in a sentence." : " Answer with the " + t.what + " only.");
  }
  std::string reply_to(const Turn& t) const { return cfg_.answers == "sentence" ? t.sentence : t.answer; }
  // The full reply a model is taught (meta.reply when the sample has one).
  static std::string reply_of(const Sample& s) { return s.meta.value("reply", s.answer); }
  std::string draw_code(std::mt19937& rng) const {
    uint64_t low = 1;
    for (int64_t d = 1; d < cfg_.code_digits; ++d) low *= 10;
    return std::to_string(low + rng() % (9 * low));
  }
  static Turn code_turn(const std::string& code) {
    return {"Question: What is the secret code?", "code", code, "The secret code is " + code + "."};
  }

  Sample make_sample(int64_t index) const {
    std::mt19937 rng(static_cast<uint32_t>(cfg_.seed * 1000003 + index));
    if (task_of(index) != "code") return make_picture_sample(index, rng);
    auto below = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
    const bool in_image = code_in_image(index);
    const std::string code = draw_code(rng);
    const int64_t tokens = cfg_.min_tokens + static_cast<int64_t>(below(static_cast<uint64_t>(cfg_.max_tokens - cfg_.min_tokens + 1)));

    std::vector<std::string> sentences = filler(tokens, rng);
    // Depth in [10%, 90%] of the haystack, in sentence positions.
    const size_t n = sentences.size();
    const size_t depth = n / 10 + below(n - n / 10 - n / 10 + 1);
    if (!in_image) sentences.insert(sentences.begin() + static_cast<std::ptrdiff_t>(depth), "The secret code is " + code + ".");

    // Images sit after distinct sentence positions; the needle image is one of them.
    std::vector<size_t> slots;
    for (int64_t k = 0; k < cfg_.images; ++k) slots.push_back(below(sentences.size() + 1));
    std::sort(slots.begin(), slots.end());
    const size_t needle_image = in_image ? below(slots.size()) : slots.size();

    Message user{"user", {text_segment(std::string(kInstruction) + "\n")}};
    std::string buf;
    size_t next = 0;
    for (size_t pos = 0; pos <= sentences.size(); ++pos) {
      for (; next < slots.size() && slots[next] == pos; ++next) {
        if (!buf.empty()) user.content.push_back(text_segment(buf)), buf.clear();
        std::string caption = next == needle_image ? "CODE " + code : distractor_caption(rng);
        MediaRef m{"", needle::draw_png(caption, static_cast<int>(cfg_.image_size), static_cast<uint32_t>(rng())),
                   fmt::format("needle sample {} image {}", index, next + 1)};
        user.content.push_back(image_segment(std::move(m)));
      }
      if (pos < sentences.size()) buf += (buf.empty() && pos == 0 ? "" : " ") + sentences[pos];
    }
    const Turn turn = code_turn(code);
    user.content.push_back(text_segment(buf + "\n" + question_of(turn)));

    Sample s;
    s.id = "needle/" + std::to_string(index);
    s.group = in_image ? "image" : "text";
    s.messages = {std::move(user)};
    s.answer = code;
    s.meta = {{"needle_in", s.group}, {"depth", static_cast<double>(depth) / static_cast<double>(n)},
              {"tokens_est", tokens}, {"images", cfg_.images}};
    if (cfg_.answers == "sentence") s.meta["reply"] = reply_to(turn);
    return s;
  }

  // Sentences of filler words until the haystack holds `tokens` (model tokens when a tokenizer is
  // attached, else words x 4/3).
  std::vector<std::string> filler(int64_t tokens, std::mt19937& rng) const {
    auto below = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
    std::vector<std::string> sentences;
    // `have` counts model tokens with a tokenizer, else words (the haystack ends at words >= 3/4 tokens).
    const int64_t want = codec_.encode ? tokens : (tokens * 3 + 3) / 4;
    for (int64_t have = 0; have < want;) {
      // Raw mt19937 output again: the draw below is made only when repeats are on, so plain
      // haystacks are the ones drawn before this option existed.
      const bool repeat = cfg_.repeat_sentences > 0 && sentences.size() >= 2 &&
                          static_cast<double>(rng()) < cfg_.repeat_sentences * 4294967296.0;
      size_t len = 0;
      if (repeat) {
        sentences.push_back(sentences[below(sentences.size())]);
        len = static_cast<size_t>(std::count(sentences.back().begin(), sentences.back().end(), ' ') + 1);
      } else {
        len = 8 + below(7);
        std::string s;
        for (size_t w = 0; w < len; ++w) s += (w ? " " : "") + std::string(kWords[below(kNumWords)]);
        s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
        sentences.push_back(s + ".");
      }
      have += codec_.encode ? static_cast<int64_t>(codec_.encode(" " + sentences.back()).size())
                            : static_cast<int64_t>(len);
    }
    return sentences;
  }

  // colour / colours: "Picture k: <image>" after distinct sentence positions.
  Sample make_picture_sample(int64_t index, std::mt19937& rng) const {
    auto below = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
    const std::string& task = task_of(index);
    const int64_t tokens = cfg_.min_tokens + static_cast<int64_t>(below(static_cast<uint64_t>(cfg_.max_tokens - cfg_.min_tokens + 1)));
    const size_t count = static_cast<size_t>(cfg_.min_pictures) + below(static_cast<uint64_t>(cfg_.max_pictures - cfg_.min_pictures + 1));
    std::vector<std::string> sentences = filler(tokens, rng);
    std::string code;
    if (task == "quiz") {
      code = draw_code(rng);
      const size_t n = sentences.size();
      sentences.insert(sentences.begin() + static_cast<std::ptrdiff_t>(n / 10 + below(n - n / 10 - n / 10 + 1)),
                       "The secret code is " + code + ".");
    }
    std::vector<size_t> slots;
    for (size_t k = 0; k < count; ++k) slots.push_back(below(sentences.size() + 1));
    std::sort(slots.begin(), slots.end());
    std::vector<size_t> colours;
    for (size_t k = 0; k < count; ++k) colours.push_back(below(kNumColours));
    const size_t asked = below(count);
    // shape: the asked picture's shape is on it alone (drawn only for this task, so the other
    // tasks' samples stay the ones their seeds always gave).
    std::vector<size_t> shapes;
    if (task == "shape") {
      const size_t unique = shape_index(cfg_.asked_shapes[below(cfg_.asked_shapes.size())]);
      for (size_t k = 0; k < count; ++k) shapes.push_back(k == asked ? unique : (unique + 1 + below(kNumShapes - 1)) % kNumShapes);
    } else if (task == "common_shape") {
      shapes.assign(count, below(kNumShapes));
    }
    // majority: redrawn until one colour is on more pictures than any other (a unique answer).
    size_t most = 0;
    while (task == "majority" || task == "quiz") {
      std::array<size_t, kNumColours> tally{};
      for (size_t c : colours) ++tally[c];
      most = static_cast<size_t>(std::max_element(tally.begin(), tally.end()) - tally.begin());
      if (std::count(tally.begin(), tally.end(), tally[most]) == 1) break;
      for (auto& c : colours) c = below(kNumColours);
    }

    Message user{"user", {text_segment(std::string(kPictureInstruction) + "\n")}};
    std::string buf;
    size_t next = 0;
    json drawn_colours = json::array(), drawn_shapes = json::array();  // for error analysis: which picture was named
    for (size_t pos = 0; pos <= sentences.size(); ++pos) {
      for (; next < slots.size() && slots[next] == pos; ++next) {
        user.content.push_back(text_segment(buf + (buf.empty() ? "" : " ") + fmt::format("Picture {}: ", next + 1)));
        buf.clear();
        std::array<int, 3> rgb = kColours[colours[next]].rgb;
        for (auto& c : rgb) c = std::clamp(c + static_cast<int>(below(41)) - 20, 0, 255);
        const auto shape = static_cast<needle::Shape>(shapes.empty() ? below(kNumShapes) : shapes[next]);
        drawn_colours.push_back(kColours[colours[next]].name);
        drawn_shapes.push_back(kShapeNames[static_cast<size_t>(shape)]);
        MediaRef m{"", needle::draw_shape_png(shape, rgb, static_cast<int>(cfg_.picture_size), static_cast<uint32_t>(rng())),
                   fmt::format("needle sample {} picture {}", index, next + 1)};
        user.content.push_back(image_segment(std::move(m)));
      }
      if (pos < sentences.size()) buf += (buf.empty() ? "" : " ") + sentences[pos];
    }
    // One question of a kind; `picture` is the one a colour question asks about.
    auto ask = [&](const std::string& kind, size_t picture) -> Turn {
      if (kind == "code") return code_turn(code);
      const std::string name = kColours[colours[picture]].name, top = kColours[most].name;
      if (kind == "colour")
        return {fmt::format("Question: What colour is the shape in picture {}?", picture + 1), "colour", name,
                fmt::format("The shape in picture {} is {}.", picture + 1, name)};
      if (kind == "shape") {
        const std::string what = kShapeNames[shapes[picture]];
        return {"Question: What colour is the " + what + "?", "colour", name, "The " + what + " is " + name + "."};
      }
      if (kind == "common_shape") {
        const std::string what = kShapeNames[shapes[0]];
        return {"Question: What shape do all the pictures show?", "shape", what, "All the pictures show a " + what + "."};
      }
      if (kind == "majority")
        return {"Question: Which colour do most of the shapes have?", "colour", top, "Most of the shapes are " + top + "."};
      std::string all;
      for (size_t k = 0; k < count; ++k) all += (k ? " " : "") + std::string(kColours[colours[k]].name);
      return {"Question: What are the colours of the shapes in all pictures, in order?", "colours", all,
              "The colours are " + all + "."};
    };
    std::vector<Turn> turns;
    if (task != "quiz") {
      turns.push_back(ask(task, asked));
    } else {
      static const char* const kKinds[] = {"code", "colour", "majority"};
      for (int64_t q = 0; q < cfg_.questions; ++q) turns.push_back(ask(kKinds[below(3)], below(count)));
    }
    user.content.push_back(text_segment(buf + "\n" + question_of(turns[0])));

    Sample s;
    s.id = "needle/" + std::to_string(index);
    s.group = task;
    s.messages = {std::move(user)};
    for (size_t q = 1; q < turns.size(); ++q) {
      s.messages.push_back({"assistant", {text_segment(reply_to(turns[q - 1]))}});
      s.messages.push_back({"user", {text_segment(question_of(turns[q]))}});
    }
    s.answer = turns.back().answer;
    s.meta = {{"task", task}, {"pictures", count}, {"tokens_est", tokens}, {"colours", std::move(drawn_colours)},
              {"shapes", std::move(drawn_shapes)}};
    if (task == "colour" || task == "shape") s.meta["asked"] = asked + 1;
    if (cfg_.answers == "sentence") s.meta["reply"] = reply_to(turns.back());
    return s;
  }

  static std::string distractor_caption(std::mt19937& rng) {
    std::string w = kWords[rng() % 40];  // nouns and adjectives only, no digits
    for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return w;
  }

  Config cfg_;
  TokenCodec codec_;
};

}  // namespace

KVB_REGISTER(Benchmark, Needle, "needle",
             "synthetic needle in a multi-image haystack (seeded, no data needed; for CPU demos)");

}  // namespace kvb
