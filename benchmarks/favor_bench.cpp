// FAVOR-Bench close-ended tasks (FAVOR-Bench/FAVOR-Bench, inference_qa_qwen.py + analyze_qa.py;
// data: huggingface zl2048/FAVOR). <root>/video_perspective.json is a list of
// {"video_name", "questions": [{"question", "options", "correct_answer", "task_type"}], ...};
// the clips are <video_dir>/<video_name>.mp4.
// Prompt, video element (fps 1.0, max_pixels 360*420) and judging are those of
// inference_qa_qwen.py; accuracy per task type (AS, HAC, SAD, MAD, CM, NSM) and ALL as in
// analyze_qa.py, which divides by the full-set counts (8184, 2637, ...): the same numbers when
// every question is run; here the denominators are the questions actually scored.
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/json_parse.h"
#include "core/log.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/group_accuracy.h"
#include "eval/text_norm.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

const char* const kTaskTypes[] = {"AS", "HAC", "SAD", "MAD", "CM", "NSM"};  // analyze_qa.py

struct FavorConfig {
  std::string annotation_file = "video_perspective.json";
  std::string video_dir;  // "" = the first of test_videos/, videos/FAVOR-Bench/, videos/, <root> holding the clip
  double fps = 1.0;                  // the official video element
  int64_t max_pixels = 360 * 420;    // the official video element
  int64_t max_new_tokens = 256;      // model.generate(max_new_tokens=256)
};

// Python repr() of a str: single quotes unless the text holds ' and no ", backslash escapes for
// the quote, backslash and control characters. Non-ASCII text is kept (printable in Python),
// except the C1 controls and no-break space, which Python escapes as \x80..\xa0.
std::string py_repr(const std::string& s) {
  const char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == static_cast<unsigned char>(q) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0xA0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[++i]));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + q;
}

// str(list_of_str), as the f-string in the official prompt prints question['options'].
std::string py_list_repr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + py_repr(items[i]);
  return out + "]";
}

std::string favor_prompt(const std::string& question, const std::vector<std::string>& options) {
  return "Carefully watch the video and pay attention to temporal dynamics in this video, focusing on the "
         "camera motions, actions, activities, and interactions. Based on your observations, select the best "
         "option that accurately addresses the question.\n" +
         question + "\nYou can only response with the answer among " + py_list_repr(options);
}

// inference_qa_qwen.py: right when the correct answer appears in the output (case-insensitive)
// and no other option that contains the correct answer as a substring appears as well.
bool favor_judge(const std::string& output, const std::string& correct, const std::vector<std::string>& options) {
  const std::string out = text::lower(output);
  if (out.find(text::lower(correct)) == std::string::npos) return false;
  for (const auto& opt : options)
    if (opt != correct && opt.find(correct) != std::string::npos && out.find(text::lower(opt)) != std::string::npos)
      return false;
  return true;
}

class FavorBench : public Benchmark {
 public:
  explicit FavorBench(const json& j) {
    ConfigReader r(j, "benchmark 'favor_bench'");
    r.get("annotation_file", cfg_.annotation_file)
        .get("video_dir", cfg_.video_dir)
        .get("fps", cfg_.fps)
        .get("max_pixels", cfg_.max_pixels)
        .get("max_new_tokens", cfg_.max_new_tokens);
    r.finish();
    if (cfg_.fps <= 0) throw UsageError("benchmark 'favor_bench': 'fps' must be > 0");
    if (cfg_.max_pixels <= 0) throw UsageError("benchmark 'favor_bench': 'max_pixels' must be > 0");
  }

  std::vector<Sample> load(const std::string& root) const override {
    KVB_CHECK(fs::is_directory(root), "favor_bench: data root '{}' is not a directory", root);
    const fs::path path = fs::path(root) / cfg_.annotation_file;
    KVB_CHECK(fs::is_regular_file(path), "favor_bench: '{}' not found", path.string());
    json data;
    try {
      std::ifstream f(path);
      data = parse_json(f);
    } catch (const json::parse_error& e) {
      KVB_FAIL("favor_bench: '{}' is not valid JSON: {}", path.string(), e.what());
    }
    KVB_CHECK(data.is_array(), "favor_bench: '{}' must hold a list of videos", path.string());
    std::vector<Sample> out;
    for (size_t v = 0; v < data.size(); ++v) load_video(root, data[v], v, out);
    spdlog::info("favor_bench: {} questions on {} videos from {}", out.size(), data.size(), path.string());
    return out;
  }

  std::vector<std::string> expected_groups() const override {
    return std::vector<std::string>(std::begin(kTaskTypes), std::end(kTaskTypes));
  }
  int64_t max_new_tokens() const override { return cfg_.max_new_tokens; }

  SampleScore score(const Sample& sample, const std::string& prediction) const override {
    SampleScore s;
    s.score = favor_judge(prediction, sample.answer, sample.choices) ? 1.0 : 0.0;
    s.extracted = s.score > 0 ? sample.answer : "";
    return s;
  }

  json aggregate(const std::vector<ScoredRecord>& records) const override {
    const GroupAccuracy t = tally_by_group(records);
    return {{"overall", t.overall_percent()}, {"groups", t.group_percent()}, {"n", t.n}, {"failed", t.failed}};
  }

  json params() const override {
    return {{"annotation_file", cfg_.annotation_file}, {"video_dir", cfg_.video_dir}, {"fps", cfg_.fps},
            {"max_pixels", cfg_.max_pixels}, {"max_new_tokens", cfg_.max_new_tokens}};
  }

 private:
  // The official path is <dir>/<video_name>.mp4; a name that already ends in .mp4 is also taken as is.
  fs::path find_video(const std::string& root, const std::string& name) const {
    std::vector<fs::path> dirs;
    if (!cfg_.video_dir.empty()) {
      fs::path d(cfg_.video_dir);
      dirs.push_back(d.is_absolute() ? d : fs::path(root) / d);
    } else {
      for (const char* d : {"test_videos", "videos/FAVOR-Bench", "videos", "."}) dirs.push_back(fs::path(root) / d);
    }
    for (const auto& d : dirs)
      for (const auto& f : {name + ".mp4", name})
        if (fs::is_regular_file(d / f)) return d / f;
    return {};
  }

  void load_video(const std::string& root, const json& item, size_t v, std::vector<Sample>& out) const {
    const std::string where = fmt::format("{} entry {}", cfg_.annotation_file, v);
    auto failed = [&](const std::string& id, const std::string& why) {
      Sample s;
      s.id = id;
      s.error = why;
      out.push_back(std::move(s));
    };
    if (!item.is_object() || !item.contains("video_name") || !item["video_name"].is_string() ||
        !item.contains("questions") || !item["questions"].is_array()) {
      failed("entry:" + std::to_string(v), where + ": needs 'video_name' (string) and 'questions' (list)");
      return;
    }
    const std::string name = item["video_name"];
    const fs::path video = find_video(root, name);
    const auto& qs = item["questions"];
    for (size_t k = 0; k < qs.size(); ++k) {
      const std::string id = name + "/" + std::to_string(k);
      const std::string qwhere = fmt::format("{} ('{}') question {}", where, name, k);
      const json& q = qs[k];
      Sample s;
      s.id = id;
      try {
        for (const char* f : {"question", "correct_answer", "task_type"})
          KVB_CHECK(q.is_object() && q.contains(f) && q[f].is_string(), "{}: field '{}' missing or not a string", qwhere, f);
        KVB_CHECK(q.contains("options") && q["options"].is_array() && !q["options"].empty(),
                  "{}: 'options' missing or not a non-empty list", qwhere);
        for (const auto& o : q["options"]) {
          KVB_CHECK(o.is_string(), "{}: an option is not a string", qwhere);
          s.choices.push_back(o.get<std::string>());
        }
        s.answer = q["correct_answer"];
        s.group = q["task_type"];
        s.meta = {{"task_type", s.group}, {"video", video.string()}};
        KVB_CHECK(std::find(std::begin(kTaskTypes), std::end(kTaskTypes), s.group) != std::end(kTaskTypes),
                  "{}: unknown task_type '{}' (known: AS, HAC, SAD, MAD, CM, NSM)", qwhere, s.group);
        KVB_CHECK(std::find(s.choices.begin(), s.choices.end(), s.answer) != s.choices.end(),
                  "{}: correct_answer '{}' is not one of the options", qwhere, s.answer);
        KVB_CHECK(!video.empty(), "{}: missing video '{}.mp4': not found under {}", qwhere, name,
                  cfg_.video_dir.empty() ? root + "/{test_videos,videos/FAVOR-Bench,videos,.}" : cfg_.video_dir);
        MediaRef media{video.string(), {}, fmt::format("FAVOR-Bench video '{}'", name), cfg_.max_pixels};
        media.fps = cfg_.fps;
        Message m{"user", {}};
        m.content.push_back(video_segment(std::move(media)));
        m.content.push_back(text_segment(favor_prompt(q["question"], s.choices)));
        s.messages.push_back(std::move(m));
      } catch (const Error& e) {
        s.error = e.what();
      }
      out.push_back(std::move(s));
    }
  }

  FavorConfig cfg_;
};

}  // namespace

KVB_REGISTER(Benchmark, FavorBench, "favor_bench", "FAVOR-Bench close-ended video motion MCQ (official judge, per task type)");

}  // namespace kvb
