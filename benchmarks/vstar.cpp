// V* Bench (penghao-wu/vstar; data: huggingface craigwu/vstar_bench), read in either layout the
// data ships in:
//   folders: <root>/{direct_attributes,relative_position}/<name>.<ext> + <name>.json with
//            {"question", "options" (the first is correct), "target_object", "bbox"};
//   jsonl:   <root>/test_questions.jsonl, one {"image", "text", "category", "question_id",
//            "label"} per line, the options inside "text" as "(A) ...".
// Two scoring modes:
//   generation (lmms-eval tasks/vstar_bench/utils.py): prompt vstar_doc_to_text + post_prompt,
//     answer letter by extract_answer_letter, accuracy per category and overall;
//   likelihood (the official vstar_bench_eval.py multiple_choices_inference): the prompt is the
//     question alone, each option string is scored as the assistant reply, the option with the
//     lowest mean token loss wins (CrossEntropyLoss over the reply tokens incl. the template's
//     end-of-turn token), correct when it is the first option. Sample.choices holds the option
//     strings exactly as the official script appends them; the engine passes back the letter.
// Both official scripts average over all samples (overall = micro mean over the 191 questions);
// the per-category means and their plain mean ("macro") are reported too.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/config.h"
#include "core/error.h"
#include "core/json_parse.h"
#include "core/log.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/group_accuracy.h"
#include "eval/option_match.h"
#include "eval/text_norm.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

// The LLaVA instruction the jsonl text ends with, and lmms-eval's post_prompt (the same words).
const char* const kInstruction = "Answer with the option's letter from the given choices directly.";
const char* const kCategories[] = {"direct_attributes", "relative_position"};  // eval_model's test types

struct VStarConfig {
  std::string layout = "auto";  // auto | jsonl | folders
  std::string jsonl_file = "test_questions.jsonl";
  std::string scoring = "generation";    // generation | likelihood
  std::string prompt_style = "lmms_eval";  // lmms_eval | raw (the jsonl text unchanged)
  int64_t max_new_tokens = 16;             // lmms-eval generation_kwargs
};

// re.findall(r"\([A-D]\)\s*([^()]+?)(?=\s*\([A-D]\)|$)", text): the option texts of a jsonl
// question. (Python's $ also matches before a final newline; the options are stripped after,
// so ECMAScript's end-only $ gives the same strings.)
std::vector<std::string> find_options(const std::string& text) {
  static const std::regex re(R"(\([A-D]\)\s*([^()]+?)(?=\s*\([A-D]\)|$))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

// vstar_doc_to_text with pre_prompt "" and the default post_prompt. With the craigwu jsonl the
// text already ends with the instruction, so the last option keeps it and the post_prompt adds
// it again: that is what lmms-eval's code builds from this text, kept as is.
std::string lmms_eval_prompt(const std::string& text) {
  std::string q = text;
  std::vector<std::string> opts = find_options(text);
  if (!opts.empty()) {
    q = text::strip(text::split(text, "(A)")[0]) + "\n";
    const char letters[] = "ABCD";
    for (size_t i = 0; i < opts.size() && i < 4; ++i)
      q += (i ? "\n" : "") + std::string(1, letters[i]) + ". " + text::strip(opts[i]);
  }
  return q + "\n" + kInstruction;
}

// The folder annotation in the jsonl text form ("Q\n(A) o1\n...\nAnswer with ...").
std::string jsonl_text(const std::string& question, const std::vector<std::string>& options) {
  std::string t = question;
  for (size_t i = 0; i < options.size(); ++i) t += "\n(" + option_label(i) + ") " + options[i];
  return t + "\n" + kInstruction;
}

class VStar : public Benchmark {
 public:
  explicit VStar(const json& j) {
    ConfigReader r(j, "benchmark 'vstar'");
    r.get_choice("layout", cfg_.layout, {"auto", "jsonl", "folders"})
        .get("jsonl_file", cfg_.jsonl_file)
        .get_choice("scoring", cfg_.scoring, {"generation", "likelihood"})
        .get_choice("prompt_style", cfg_.prompt_style, {"lmms_eval", "raw"})
        .get("max_new_tokens", cfg_.max_new_tokens);
    r.finish();
  }

  std::vector<Sample> load(const std::string& root) const override {
    KVB_CHECK(fs::is_directory(root), "vstar: data root '{}' is not a directory", root);
    std::string layout = cfg_.layout;
    if (layout == "auto") layout = fs::is_regular_file(fs::path(root) / cfg_.jsonl_file) ? "jsonl" : "folders";
    std::vector<Sample> out = layout == "jsonl" ? load_jsonl(root) : load_folders(root);
    // An empty file or empty folders would otherwise pass `data check` and score nothing.
    KVB_CHECK(!out.empty(), "vstar: no samples in '{}' ({} layout)",
              layout == "jsonl" ? (fs::path(root) / cfg_.jsonl_file).string() : root, layout);
    spdlog::info("vstar: {} samples ({} layout, {} scoring) from {}", out.size(), layout, cfg_.scoring, root);
    return out;
  }

  std::vector<std::string> expected_groups() const override {
    return std::vector<std::string>(std::begin(kCategories), std::end(kCategories));
  }
  int64_t max_new_tokens() const override { return cfg_.max_new_tokens; }
  bool likelihood_scoring() const override { return cfg_.scoring == "likelihood"; }

  SampleScore score(const Sample& sample, const std::string& prediction) const override {
    SampleScore s;
    s.extracted = likelihood_scoring() ? text::upper(text::strip(prediction)) : extract_option_letter(prediction);
    s.score = !s.extracted.empty() && s.extracted == text::upper(text::strip(sample.answer)) ? 1.0 : 0.0;
    return s;
  }

  json aggregate(const std::vector<ScoredRecord>& records) const override {
    const GroupAccuracy t = tally_by_group(records);
    return {{"overall", t.overall_percent()},
            {"groups", t.group_percent()},
            {"macro", t.macro_percent()},
            {"n", t.n},
            {"failed", t.failed}};
  }

  json params() const override {
    return {{"layout", cfg_.layout},     {"jsonl_file", cfg_.jsonl_file}, {"scoring", cfg_.scoring},
            {"prompt_style", cfg_.prompt_style}, {"max_new_tokens", cfg_.max_new_tokens}};
  }

 private:
  // One sample from the question text in jsonl form, its options and the gold letter.
  Sample make(const std::string& id, const std::string& category, const fs::path& image, const std::string& where,
              const std::string& question, const std::string& text, std::vector<std::string> options,
              const std::string& label) const {
    Sample s;
    s.id = id;
    s.group = category;
    s.answer = label;
    s.choices = std::move(options);
    s.meta = {{"category", category}, {"image", image.string()}};
    if (!fs::is_regular_file(image)) {
      s.error = fmt::format("{}: missing image '{}': not found", where, image.string());
      return s;
    }
    bool known = false;
    for (size_t i = 0; i < s.choices.size(); ++i) known = known || option_label(i) == label;
    if (s.choices.size() < 2 || !known) {
      s.error = fmt::format("{}: label '{}' is not one of the {} option letters", where, label, s.choices.size());
      return s;
    }
    std::string prompt = likelihood_scoring() ? question : cfg_.prompt_style == "raw" ? text : lmms_eval_prompt(text);
    Message m{"user", {}};
    m.content.push_back(image_segment(MediaRef{image.string(), {}, where}));
    m.content.push_back(text_segment(std::move(prompt)));
    s.messages.push_back(std::move(m));
    return s;
  }

  std::vector<Sample> load_jsonl(const std::string& root) const {
    const fs::path path = fs::path(root) / cfg_.jsonl_file;
    std::ifstream in(path);
    KVB_CHECK(in.good(), "vstar: cannot open '{}'", path.string());
    std::vector<Sample> out;
    std::string line;
    for (size_t ln = 1; std::getline(in, line); ++ln) {
      if (text::strip(line).empty()) continue;
      const std::string where = fmt::format("{} line {}", cfg_.jsonl_file, ln);
      try {
        const json row = parse_json(line);
        for (const char* k : {"image", "text", "label"})
          KVB_CHECK(row.contains(k) && row[k].is_string(), "{}: field '{}' missing or not a string", where, k);
        const std::string text = row["text"], image = row["image"];
        std::string id = row.contains("question_id") ? (row["question_id"].is_string() ? row["question_id"].get<std::string>()
                                                                                         : row["question_id"].dump())
                                                     : std::to_string(ln);
        std::string category = row.value("category", fs::path(image).parent_path().string());
        // Likelihood: the official prompt is the question alone and the options are bare
        // strings; in this layout they are the "(X) ..." lines of the text.
        std::vector<std::string> options;
        for (const auto& o : find_options(text)) options.push_back(text::strip(text::split(o, "\n")[0]));
        out.push_back(make(id, category, fs::path(root) / image, where, text::strip(text::split(text, "(A)")[0]), text,
                           options, text::upper(text::strip(row["label"].get<std::string>()))));
      } catch (const std::exception& e) {  // json::parse_error or our check
        Sample s;
        s.id = "line:" + std::to_string(ln);
        s.error = std::string(e.what()).find(where) == 0 ? e.what() : where + ": " + e.what();
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  std::vector<Sample> load_folders(const std::string& root) const {
    std::vector<Sample> out;
    bool warned = false;
    for (const char* category : kCategories) {
      const fs::path folder = fs::path(root) / category;
      KVB_CHECK(fs::is_directory(folder), "vstar: folder '{}' not found (folders layout; or put {} in the root)",
                folder.string(), cfg_.jsonl_file);
      std::vector<std::string> images;  // eval_model: every file whose name has no ".json"
      for (const auto& e : fs::directory_iterator(folder))
        if (e.is_regular_file() && e.path().filename().string().find(".json") == std::string::npos)
          images.push_back(e.path().filename().string());
      std::sort(images.begin(), images.end());  // os.listdir order is arbitrary; sorted is stable
      for (const auto& name : images) {
        const std::string where = std::string(category) + "/" + name;
        const fs::path ann = folder / (name.substr(0, name.find('.')) + ".json");
        try {
          KVB_CHECK(fs::is_regular_file(ann), "{}: annotation '{}' not found", where, ann.filename().string());
          std::ifstream f(ann);
          json a;
          try {
            a = parse_json(f);
          } catch (const json::parse_error& e) {
            KVB_FAIL("{}: '{}' is not valid JSON: {}", where, ann.filename().string(), e.what());
          }
          KVB_CHECK(a.contains("question") && a["question"].is_string(), "{}: 'question' missing or not a string", where);
          KVB_CHECK(a.contains("options") && a["options"].is_array(), "{}: 'options' missing or not a list", where);
          std::vector<std::string> options;
          for (const auto& o : a["options"]) {
            KVB_CHECK(o.is_string(), "{}: an option is not a string", where);
            options.push_back(o.get<std::string>());
          }
          if (!likelihood_scoring() && !warned) {
            spdlog::warn("vstar: folders layout with generation scoring lists the correct option first (A); "
                         "the jsonl layout has the published option order");
            warned = true;
          }
          const std::string q = a["question"];
          out.push_back(make(where, category, folder / name, where, q, jsonl_text(q, options), options, "A"));
        } catch (const Error& e) {
          Sample s;
          s.id = where;
          s.group = category;
          s.error = e.what();
          out.push_back(std::move(s));
        }
      }
    }
    return out;
  }

  VStarConfig cfg_;
};

}  // namespace

KVB_REGISTER(Benchmark, VStar, "vstar", "V* Bench (folders or jsonl; lmms-eval generation or official option likelihood)");

}  // namespace kvb
