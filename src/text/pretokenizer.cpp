#include "text/pretokenizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/regex.h"

namespace kvb::text {
namespace {

using json = nlohmann::json;
using Ranges = std::vector<std::pair<size_t, size_t>>;

std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) out += '\\';
    out += c;
  }
  return out;
}

std::string pattern_of(const json& pat, const std::string& where) {
  if (pat.contains("Regex")) return pat.at("Regex").get<std::string>();
  if (pat.contains("String")) return escape_literal(pat.at("String").get<std::string>());
  KVB_FAIL("{}: pattern needs 'Regex' or 'String'", where);
}

class Split : public PreTokenizer {
 public:
  enum class Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };

  Split(const json& j, const std::string& where)
      : re_(pattern_of(j.at("pattern"), where + ".pattern"), where + ".pattern"),
        invert_(j.value("invert", false)) {
    const std::string b = j.at("behavior").get<std::string>();
    if (b == "Isolated") behavior_ = Behavior::Isolated;
    else if (b == "Removed") behavior_ = Behavior::Removed;
    else if (b == "MergedWithPrevious") behavior_ = Behavior::MergedWithPrevious;
    else if (b == "MergedWithNext") behavior_ = Behavior::MergedWithNext;
    else if (b == "Contiguous") behavior_ = Behavior::Contiguous;
    else KVB_FAIL("{}: unknown Split behavior '{}'", where, b);
  }

  void apply(Pieces& p, size_t) const override {
    std::vector<std::string_view> out;
    out.reserve(p.views.size() * 4);
    Ranges m;
    for (std::string_view v : p.views) {
      m.clear();
      re_.find_all(v, m);
      split_one(v, m, out);
    }
    p.views.swap(out);
  }

 private:
  void split_one(std::string_view v, const Ranges& m, std::vector<std::string_view>& out) const {
    const auto push = [&](size_t b, size_t e) {
      if (e > b) out.push_back(v.substr(b, e - b));
    };
    if (invert_) {  // the matches are the pieces (transformers.js: text.match)
      for (auto [b, e] : m) push(b, e);
      return;
    }
    size_t prev = 0;
    switch (behavior_) {
      case Behavior::Isolated:
      case Behavior::Removed:
        for (auto [b, e] : m) {
          push(prev, b);
          if (behavior_ == Behavior::Isolated) push(b, e);
          prev = e;
        }
        break;
      case Behavior::MergedWithPrevious:
        for (auto [b, e] : m) push(prev, e), prev = e;
        break;
      case Behavior::MergedWithNext:
        for (auto [b, e] : m) push(prev, b), prev = b;
        break;
      case Behavior::Contiguous:
        for (size_t i = 0; i < m.size();) {
          size_t b = m[i].first, e = m[i].second;
          while (++i < m.size() && m[i].first == e) e = m[i].second;
          push(prev, b), push(b, e), prev = e;
        }
        break;
    }
    push(prev, v.size());
  }

  Regex re_;
  bool invert_;
  Behavior behavior_ = Behavior::Isolated;
};

// GPT-2's pattern, used by ByteLevel when use_regex is true (its default).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(const json& j, const std::string& where) : prefix_space_(j.value("add_prefix_space", false)) {
    if (j.value("use_regex", true)) re_ = std::make_unique<Regex>(kGpt2Pattern, where + " (GPT-2 regex)");
  }
  void apply(Pieces& p, size_t) const override {
    if (prefix_space_) {
      for (auto& v : p.views)
        if (v.empty() || v[0] != ' ') v = p.owned.emplace_back(" " + std::string(v));
    }
    if (re_) {
      std::vector<std::string_view> out;
      Ranges m;
      for (std::string_view v : p.views) {
        m.clear();
        re_->find_all(v, m);
        for (auto [b, e] : m) out.push_back(v.substr(b, e - b));
      }
      p.views.swap(out);
    }
    p.byte_level = true;
  }

 private:
  bool prefix_space_;
  std::unique_ptr<Regex> re_;
};

class Metaspace : public PreTokenizer {
 public:
  Metaspace(const json& j, const std::string& where) {
    replacement_ = j.at("replacement").get<std::string>();
    split_ = j.value("split", true);
    if (j.contains("prepend_scheme")) {
      scheme_ = j.at("prepend_scheme").get<std::string>();
      KVB_CHECK(scheme_ == "always" || scheme_ == "first" || scheme_ == "never",
                "{}: prepend_scheme must be always, first or never (got '{}')", where, scheme_);
    } else {
      scheme_ = j.value("add_prefix_space", true) ? "always" : "never";
    }
  }
  void apply(Pieces& p, size_t section) const override {
    std::vector<std::string_view> out;
    for (std::string_view v : p.views) {
      std::string s;
      for (char c : v) c == ' ' ? (void)s.append(replacement_) : (void)s.push_back(c);
      const bool prepend = scheme_ == "always" || (scheme_ == "first" && section == 0);
      if (prepend && s.compare(0, replacement_.size(), replacement_) != 0) s.insert(0, replacement_);
      std::string_view w = p.owned.emplace_back(std::move(s));
      if (!split_) {
        if (!w.empty()) out.push_back(w);
        continue;
      }
      // Each piece starts at a replacement character (tokenizers' MergedWithNext split).
      size_t start = 0;
      for (size_t k = w.find(replacement_, 1); k != std::string_view::npos; k = w.find(replacement_, k + 1)) {
        out.push_back(w.substr(start, k - start));
        start = k;
      }
      if (start < w.size()) out.push_back(w.substr(start));
    }
    p.views.swap(out);
  }

 private:
  std::string replacement_, scheme_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void apply(Pieces& p, size_t section) const override {
    for (const auto& s : parts_) s->apply(p, section);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  try {
    const std::string type = j.at("type").get<std::string>();
    if (type == "Split") return std::make_unique<Split>(j, where);
    if (type == "ByteLevel") return std::make_unique<ByteLevel>(j, where);
    if (type == "Metaspace") return std::make_unique<Metaspace>(j, where);
    if (type == "Sequence") {
      std::vector<std::unique_ptr<PreTokenizer>> parts;
      const json& list = j.at("pretokenizers");
      for (size_t i = 0; i < list.size(); ++i) {
        auto p = make_pre_tokenizer(list[i], fmt::format("{}.pretokenizers[{}]", where, i));
        KVB_CHECK(!(i + 1 < list.size() && list[i].value("type", "") == "ByteLevel"),
                  "{}: only the last pre-tokenizer of a Sequence may be ByteLevel", where);
        if (p) parts.push_back(std::move(p));
      }
      return std::make_unique<Sequence>(std::move(parts));
    }
    KVB_FAIL("{}: unsupported pre_tokenizer type '{}' (supported: Split, ByteLevel, Metaspace, Sequence)",
             where, type);
  } catch (const json::exception& e) {
    KVB_FAIL("{}: malformed pre_tokenizer: {}", where, e.what());
  }
}

}  // namespace kvb::text
