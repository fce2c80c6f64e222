// HR-Bench (DreamMr/HR-Bench): hr_bench_4k.tsv / hr_bench_8k.tsv as published (VLMEvalKit TSV:
// index, question, answer, category, A..D, cycle_category, image as base64 or as the index of
// another row). Every question appears once per option rotation (cycle_category).
//
// Prompt: lmms-eval tasks/hrbench/utils.py hrbench_doc_to_text (default) or the HR-Bench repo's
// VLMEvalKit ImageMCQDataset.build_prompt. Scoring: can_infer (lmms-eval hrbench_evals.py,
// = VLMEvalKit matching_util) on the stripped answer; the GPT fallback of the official code is
// not available offline, so an answer it cannot read scores 0 (VLMEvalKit's exact_matching).
// Aggregation: the official one (HR-Bench image_mcq.py / lmms-eval hrbench_aggregate_results):
// accuracy per cycle_category, then the mean over cycles, for single, cross and all. (lmms-eval
// divides by the cycles a category occurs in, the HR-Bench repo by all cycles; the published
// files hold every category in every cycle, where both agree. We follow lmms-eval.)
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/text_norm.h"
#include "eval/tsv.h"
#include "vision/base64.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

namespace hrbench {

// can_infer_option: the answer with .()[],:;!*#{} turned into spaces, split on whitespace; one
// option letter among the pieces is the answer; none, but a "Z" piece, is "Z" (refusal).
std::string can_infer_option(const std::string& answer, const std::map<std::string, std::string>& choices) {
  if (answer.find("Failed to obtain answer via API") != std::string::npos) return "";
  for (const char* refusal : {"Sorry, I can't help with images of people yet.", "I can't process this file.",
                              "I'm sorry, but without the image provided", "Cannot determine the answer"})
    if (answer.find(refusal) != std::string::npos) return "Z";
  std::string mod = answer;
  for (char& c : mod)
    if (std::string(".()[],:;!*#{}").find(c) != std::string::npos) c = ' ';
  const std::vector<std::string> pieces = text::split_ws(mod);
  const std::set<std::string> splits(pieces.begin(), pieces.end());
  int count = 0;
  std::string first;
  for (const auto& kv : choices)
    if (splits.count(kv.first)) {
      if (!count) first = kv.first;
      ++count;
    }
  if (count == 1) return first;
  if (count == 0 && splits.count("Z")) return "Z";
  return "";
}

// can_infer_text: exactly one option text (lower-cased) inside the lower-cased answer.
std::string can_infer_text(const std::string& answer, const std::map<std::string, std::string>& choices) {
  const std::string a = text::lower(answer);
  std::string hit;
  int n = 0;
  for (const auto& kv : choices)
    if (a.find(text::lower(kv.second)) != std::string::npos) {
      hit = kv.first;
      ++n;
    }
  return n == 1 ? hit : "";
}

std::string can_infer(const std::string& answer, const std::map<std::string, std::string>& choices) {
  std::string o = can_infer_option(answer, choices);
  return o.empty() ? can_infer_text(answer, choices) : o;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// Per split: the official cycle-averaged accuracy (groups "<split>/single|cross|average"), plus
// plain accuracy over rows and the stricter all-rotations-right accuracy for reference.
json aggregate(const std::vector<ScoredRecord>& records, const std::vector<std::string>& splits) {
  // A record of another split would be left out and the overall silently become 0.
  for (const auto& r : records) {
    const std::string split = r.meta.is_object() && r.meta.contains("split") && r.meta["split"].is_string()
                                  ? r.meta["split"].get<std::string>()
                                  : "";
    if ((!r.failed || !split.empty()) && std::find(splits.begin(), splits.end(), split) == splits.end())
      KVB_FAIL("hrbench: sample '{}' has meta.split '{}', not one of the splits scored ({}); set 'splits'", r.id,
               split, join_names(splits));
  }
  json groups = json::object(), plain = json::object(), rotations = json::object(), per_cycle = json::object();
  int64_t n = 0, failed = 0;
  std::vector<double> split_avgs;
  for (const auto& split : splits) {
    // key (category or "average") -> cycle -> scores
    std::map<std::string, std::map<std::string, std::vector<double>>> by;
    std::map<std::string, std::vector<double>> rows;
    std::map<std::string, std::pair<std::string, bool>> question;  // key -> (category, all right)
    bool any = false;
    for (const auto& r : records) {
      if (!r.meta.is_object() || r.meta.value("split", "") != split) continue;
      if (r.failed) {
        ++failed;
        continue;
      }
      any = true;
      ++n;
      const std::string cat = r.meta.value("category", ""), cyc = r.meta.value("cycle", "");
      by[cat][cyc].push_back(r.score);
      by["average"][cyc].push_back(r.score);
      rows[cat].push_back(r.score);
      rows["average"].push_back(r.score);
      auto q = question.emplace(r.meta.value("question_key", r.id), std::make_pair(cat, true)).first;
      q->second.second = q->second.second && r.score >= 1.0;
    }
    if (!any) continue;
    for (const auto& [key, cycles] : by) {
      std::vector<double> accs;
      for (const auto& [cyc, scores] : cycles) {
        accs.push_back(100.0 * mean(scores));
        if (key == "average") per_cycle[split + "/" + cyc] = accs.back();
      }
      groups[split + "/" + key] = mean(accs);
      plain[split + "/" + key] = 100.0 * mean(rows[key]);
    }
    std::map<std::string, std::vector<double>> strict;
    for (const auto& [k, v] : question) {
      strict[v.first].push_back(v.second ? 1.0 : 0.0);
      strict["average"].push_back(v.second ? 1.0 : 0.0);
    }
    for (const auto& [key, v] : strict) rotations[split + "/" + key] = 100.0 * mean(v);
    split_avgs.push_back(groups[split + "/average"].get<double>());
  }
  // The HR-Bench leaderboard's Avg. is the mean of the 4K and 8K scores.
  return {{"overall", split_avgs.empty() ? json() : json(mean(split_avgs))}, {"groups", groups},   {"plain_accuracy", plain},
          {"all_rotations", rotations},  {"per_cycle", per_cycle}, {"n", n}, {"failed", failed}};
}

}  // namespace hrbench

struct HrBenchConfig {
  std::vector<std::string> splits{"4k", "8k"};
  std::string prompt_style = "lmms_eval";  // or "vlmevalkit"
  std::string image_cache;                 // "" = <data_root>/images/HRBench4K (VLMEvalKit's img_root)
  int64_t max_new_tokens = 16;
};

// VLMEvalKit's rule: an image cell of at most 64 characters is the index of the row that holds
// the image (ImageBaseDataset.__init__).
constexpr size_t kMaxIndexCell = 64;

// Magic numbers of the formats an image decoder reads; anything else is not an image.
bool looks_like_image(const std::string& b) {
  auto starts = [&](const char* sig, size_t n) { return b.size() >= n && b.compare(0, n, sig, n) == 0; };
  return starts("\xFF\xD8\xFF", 3) || starts("\x89PNG", 4) || starts("GIF8", 4) || starts("BM", 2) ||
         (starts("RIFF", 4) && b.size() >= 12 && b.compare(8, 4, "WEBP") == 0) || starts("II*\0", 4) ||
         starts("MM\0*", 4);
}

// The cache file of a row: VLMEvalKit's "<index>.jpg" for plain indexes; any other byte is
// %-escaped ('%' included, so two indexes never share a file), so "../x" stays in the cache.
std::string cache_file_name(const std::string& index) {
  std::string out;
  for (unsigned char c : index)
    out += std::isalnum(c) || c == '_' || c == '-' ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  return out + ".jpg";
}

std::string dataset_name(const std::string& split) {  // VLMEvalKit's dataset names
  std::string up = split;
  std::transform(up.begin(), up.end(), up.begin(), ::toupper);
  return "HRBench" + up;
}

struct Row {
  std::string index, question, answer, category, cycle, image;
  std::map<std::string, std::string> options;  // letter -> text, present and non-empty only
  size_t line = 0;
};

// Writes `bytes` to `path` unless the file already holds them; through a temporary file, so
// that shards loading the data at once never read a half-written image.
void write_if_changed(const fs::path& path, const std::string& bytes, const std::string& label) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == bytes.size()) {
    std::ifstream in(path, std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(in)), {});
    if (have == bytes) return;
  }
  const fs::path tmp = path.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    KVB_CHECK(f.good(), "{}: cannot write '{}'", label, tmp.string());
  }
  fs::rename(tmp, path, ec);
  KVB_CHECK(!ec, "{}: cannot write '{}': {}", label, path.string(), ec.message());
}

class HrBench : public Benchmark {
 public:
  explicit HrBench(const json& j) {
    ConfigReader r(j, "benchmark 'hrbench'");
    r.get("splits", cfg_.splits)
        .get_choice("prompt_style", cfg_.prompt_style, {"lmms_eval", "vlmevalkit"})
        .get("image_cache", cfg_.image_cache)
        .get("max_new_tokens", cfg_.max_new_tokens);
    r.finish();
    KVB_CHECK(!cfg_.splits.empty(), "benchmark 'hrbench': 'splits' is empty");
    for (const auto& s : cfg_.splits)
      if (s != "4k" && s != "8k") throw UsageError(fmt::format("benchmark 'hrbench': unknown split '{}'; known: 4k, 8k", s));
  }

  std::vector<Sample> load(const std::string& data_root) const override {
    KVB_CHECK(fs::is_directory(data_root), "hrbench: data root '{}' is not a directory", data_root);
    std::vector<Sample> out;
    for (const auto& split : cfg_.splits) load_split(data_root, split, out);
    return out;
  }

  std::vector<std::string> expected_groups() const override {
    std::vector<std::string> g;
    for (const auto& s : cfg_.splits) g.insert(g.end(), {s + "/single", s + "/cross"});
    return g;
  }
  int64_t max_new_tokens() const override { return cfg_.max_new_tokens; }

  SampleScore score(const Sample& sample, const std::string& prediction) const override {
    std::map<std::string, std::string> options = sample.meta.at("options").get<std::map<std::string, std::string>>();
    SampleScore s;
    s.extracted = hrbench::can_infer(text::strip(prediction), options);
    s.score = text::lower(s.extracted) == text::lower(sample.answer) ? 1.0 : 0.0;
    return s;
  }

  json aggregate(const std::vector<ScoredRecord>& records) const override {
    return hrbench::aggregate(records, cfg_.splits);
  }

  json params() const override {
    return {{"splits", cfg_.splits},
            {"prompt_style", cfg_.prompt_style},
            {"image_cache", cfg_.image_cache},
            {"max_new_tokens", cfg_.max_new_tokens}};
  }

 private:
  std::string prompt(const Row& r) const {
    std::string opts;
    for (const auto& [k, v] : r.options) opts += k + ". " + v + "\n";
    if (cfg_.prompt_style == "lmms_eval")  // hrbench_doc_to_text
      return text::strip(r.question) + "\n" + opts + "Answer the option letter directly.";
    // ImageMCQDataset.build_prompt (no hint column in HR-Bench)
    std::string p = "Question: " + r.question + "\n";
    if (!r.options.empty()) p += "Options:\n" + opts + "Please select the correct answer from the options above. \n";
    return p;
  }

  void load_split(const std::string& root, const std::string& split, std::vector<Sample>& out) const {
    const std::string file_name = "hr_bench_" + split + ".tsv";
    const fs::path path = fs::path(root) / file_name;
    KVB_CHECK(fs::is_regular_file(path), "hrbench: '{}' not found (split '{}'; set 'splits' to the files you have)",
              path.string(), split);
    const fs::path cache = cfg_.image_cache.empty() ? fs::path(root) / "images" / dataset_name(split)
                                                    : fs::path(cfg_.image_cache) / dataset_name(split);
    std::error_code ec;
    fs::create_directories(cache, ec);
    KVB_CHECK(!ec, "hrbench: cannot create the image cache '{}': {} (set 'image_cache')", cache.string(), ec.message());

    TsvReader tsv(path.string());
    for (const char* col : {"index", "question", "answer", "category", "cycle_category", "image"})
      KVB_CHECK(tsv.has_column(col), "{}: missing column '{}'", path.string(), col);

    std::vector<Row> rows;
    std::map<std::string, std::string> image_of;  // index -> cached image path, or "" when bad
    std::map<std::string, std::string> image_error;
    std::set<std::string> seen;
    std::vector<std::string> cells;
    while (tsv.next(cells)) {
      Row r;
      r.line = tsv.record_line();
      r.index = tsv.cell(cells, "index");
      r.question = tsv.cell(cells, "question");
      r.answer = tsv.cell(cells, "answer");
      r.category = tsv.cell(cells, "category");
      r.cycle = tsv.cell(cells, "cycle_category");
      for (char c = 'A'; c <= 'Z'; ++c) {
        const std::string k(1, c);
        if (tsv.has_column(k) && !tsv.cell(cells, k).empty()) r.options[k] = tsv.cell(cells, k);
      }
      std::string& cell = cells[tsv.column("image")];
      if (cell.size() > kMaxIndexCell) {
        const std::string label = fmt::format("{} line {} (index {})", file_name, r.line, r.index);
        const fs::path img = cache / cache_file_name(r.index);
        image_of[r.index] = img.string();
        try {
          KVB_CHECK(img.filename().string().size() <= 255, "{}: index too long for a file name", label);
          // Decoded every time: a cached file from an earlier, intact TSV must not hide a corrupt cell.
          std::string bytes = base64_decode(cell, label);
          KVB_CHECK(looks_like_image(bytes), "{}: the image cell decodes to {} bytes that are not an image", label,
                    bytes.size());
          write_if_changed(img, bytes, label);
        } catch (const Error& e) {
          image_error[r.index] = e.what();
          image_of[r.index].clear();
        }
        r.image = r.index;
      } else {
        r.image = cell;  // a reference (or empty: no image)
      }
      cell.clear();
      cell.shrink_to_fit();
      if (!seen.insert(r.index).second) r.image = "\x01duplicate";
      rows.push_back(std::move(r));
    }
    KVB_CHECK(!rows.empty(), "{}: no rows (only a header)", path.string());
    spdlog::info("hrbench {}: {} rows from {}", split, rows.size(), path.string());

    for (const auto& r : rows) {
      Sample s;
      s.id = split + "/" + r.index;
      s.group = split + "/" + r.category;
      s.answer = r.answer;
      std::string where = fmt::format("{} line {} (index {})", file_name, r.line, r.index);
      json opts = json::object();
      for (const auto& [k, v] : r.options) {
        opts[k] = v;
        s.choices.push_back(v);
      }
      s.meta = {{"split", split}, {"category", r.category}, {"cycle", r.cycle}, {"index", r.index},
                {"options", opts}, {"image_index", r.image}};
      auto fail = [&](const std::string& why) {
        s.error = where + ": " + why;
        out.push_back(s);
      };
      if (r.image == "\x01duplicate") { fail("duplicate index"); continue; }
      if (r.image.empty()) { fail("no image (empty image cell)"); continue; }
      auto it = image_of.find(r.image);
      if (it == image_of.end()) { fail(fmt::format("image refers to index '{}', which holds no image", r.image)); continue; }
      if (it->second.empty()) {
        fail(r.image == r.index ? image_error.at(r.index)
                                : fmt::format("image of index '{}' is unusable: {}", r.image, image_error.at(r.image)));
        continue;
      }
      if (r.options.empty()) { fail("no options"); continue; }
      if (!r.options.count(r.answer)) {
        fail(fmt::format("answer '{}' is not one of the option letters", r.answer));
        continue;
      }
      if (r.category != "single" && r.category != "cross") {
        fail(fmt::format("unknown category '{}' (expected single or cross)", r.category));
        continue;
      }
      // The same question in its other rotations shares question text and image.
      s.meta["question_key"] = r.image + "\n" + r.question;
      Message m{"user", {}};
      m.content.push_back(image_segment(MediaRef{it->second, {}, where}));
      m.content.push_back(text_segment(prompt(r)));
      s.messages.push_back(std::move(m));
      out.push_back(std::move(s));
    }
  }

  HrBenchConfig cfg_;
};

}  // namespace

KVB_REGISTER(Benchmark, HrBench, "hrbench", "HR-Bench 4K/8K high-resolution MCQ (TSV, cycle-averaged accuracy)");

}  // namespace kvb
