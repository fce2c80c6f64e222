// needle: a synthetic needle-in-a-haystack benchmark for CPU demos (ours, not a published
// set). Each sample is a filler-text haystack of a configured size with images interleaved;
// one secret code is hidden either as a sentence in the text or written in one of the images
// (drawn with OpenCV). Everything derives from `seed`: same seed, same samples. No data root
// is read. Scoring is exact match on the MileBench-normalised answer.
#include <algorithm>
#include <random>

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
const char* const kQuestion = "Question: What is the secret code? Answer with the code only.";

constexpr int64_t kMaxSamples = 100000;

struct Config {
  int64_t samples = 10;
  int64_t seed = 2024;
  int64_t min_tokens = 300;  // haystack size drawn per sample in [min_tokens, max_tokens]
  int64_t max_tokens = 600;  // (estimated: words x 4/3)
  int64_t images = 2;        // images per haystack
  int64_t image_size = 112;  // pixels per side
  std::string needle_in = "mixed";  // text | image | mixed (alternating)
  std::string match = "word";       // word: the code is a word of the answer; exact: the answer is the code
  int64_t max_new_tokens = 8;
};

class Needle : public Benchmark {
 public:
  explicit Needle(const json& j) {
    ConfigReader r(j, "benchmark 'needle'");
    r.get("samples", cfg_.samples).get("seed", cfg_.seed).get("min_tokens", cfg_.min_tokens);
    r.get("max_tokens", cfg_.max_tokens).get("images", cfg_.images).get("image_size", cfg_.image_size);
    r.get_choice("needle_in", cfg_.needle_in, {"text", "image", "mixed"});
    r.get_choice("match", cfg_.match, {"word", "exact"});
    r.get("max_new_tokens", cfg_.max_new_tokens);
    r.finish();
    auto bad = [](const std::string& m) { throw UsageError("benchmark 'needle': " + m); };
    // load() draws every sample (images included) before --limit picks the first ones.
    if (cfg_.samples < 1 || cfg_.samples > kMaxSamples) bad(fmt::format("need 1 <= samples <= {}", kMaxSamples));
    if (cfg_.min_tokens < 50 || cfg_.max_tokens < cfg_.min_tokens || cfg_.max_tokens > 65536)
      bad("need 50 <= min_tokens <= max_tokens <= 65536");
    if (cfg_.images < 0 || cfg_.images > 64 || cfg_.image_size < 32 || cfg_.image_size > 4096)
      bad("need 0 <= images <= 64 and 32 <= image_size <= 4096");
    if (cfg_.needle_in != "text" && cfg_.images < 1) bad("needle_in '" + cfg_.needle_in + "' needs images >= 1");
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

  std::vector<std::string> expected_groups() const override {
    if (cfg_.needle_in == "mixed") return cfg_.samples > 1 ? std::vector<std::string>{"image", "text"}
                                                           : std::vector<std::string>{"text"};
    return {cfg_.needle_in};
  }
  int64_t max_new_tokens() const override { return cfg_.max_new_tokens; }

  SampleScore score(const Sample& s, const std::string& prediction) const override {
    SampleScore out;
    out.extracted = text::milebench_normalize(prediction);
    if (cfg_.match == "exact") {
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
            {"needle_in", cfg_.needle_in}, {"match", cfg_.match}, {"max_new_tokens", cfg_.max_new_tokens}};
  }

 private:
  // Per-sample generator, so sample i does not depend on how many samples are drawn. Only raw
  // mt19937 output is used (its sequence is fixed by the standard; distributions are not).
  Sample make_sample(int64_t index) const {
    std::mt19937 rng(static_cast<uint32_t>(cfg_.seed * 1000003 + index));
    auto below = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
    const bool in_image = cfg_.needle_in == "image" || (cfg_.needle_in == "mixed" && index % 2 == 1);
    const std::string code = std::to_string(1000 + below(9000));
    const int64_t tokens = cfg_.min_tokens + static_cast<int64_t>(below(static_cast<uint64_t>(cfg_.max_tokens - cfg_.min_tokens + 1)));

    std::vector<std::string> sentences;
    for (int64_t words = 0; words * 4 < tokens * 3;) {
      size_t len = 8 + below(7);
      std::string s;
      for (size_t w = 0; w < len; ++w) s += (w ? " " : "") + std::string(kWords[below(kNumWords)]);
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      sentences.push_back(s + ".");
      words += static_cast<int64_t>(len);
    }
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
    user.content.push_back(text_segment(buf + "\n" + kQuestion));

    Sample s;
    s.id = "needle/" + std::to_string(index);
    s.group = in_image ? "image" : "text";
    s.messages = {std::move(user)};
    s.answer = code;
    s.meta = {{"needle_in", s.group}, {"depth", static_cast<double>(depth) / static_cast<double>(n)},
              {"tokens_est", tokens}, {"images", cfg_.images}};
    return s;
  }

  static std::string distractor_caption(std::mt19937& rng) {
    std::string w = kWords[rng() % 40];  // nouns and adjectives only, no digits
    for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return w;
  }

  Config cfg_;
};

}  // namespace

KVB_REGISTER(Benchmark, Needle, "needle",
             "synthetic needle in a multi-image haystack (seeded, no data needed; for CPU demos)");

}  // namespace kvb
