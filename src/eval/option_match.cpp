#include "eval/option_match.h"

#include <map>
#include <memory>

#include "eval/text_norm.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace kvb {

std::string option_label(size_t i) {
  if (i < 26) return std::string(1, static_cast<char>('A' + i));
  if (i < 52) return "A" + std::string(1, static_cast<char>('A' + i - 26));
  return "B" + std::string(1, static_cast<char>('A' + i - 52));
}

std::vector<Option> label_options(const std::vector<std::string>& choices) {
  std::vector<Option> out;
  for (size_t i = 0; i < choices.size(); ++i) out.emplace_back(option_label(i), choices[i]);
  return out;
}

namespace {
// preprocess_option_string: normalise, then backslash-escape regex specials. The escaped form
// only matters where the official code compares it with matched text (step 2).
std::string escape_regex(std::string s) {
  for (const char* c : {"\\", ".", "^", "$", "*", "+", "?", "{", "}", "[", "]", "|", "(", ")"})
    s = text::replace_all(s, c, std::string("\\") + c);
  return s;
}

// re.search over an alternation of escaped literals: the leftmost position wins, and at that
// position the first alternative in order. Returns the index of the alternative or -1.
int leftmost_first(const std::string& text, const std::vector<std::string>& literals) {
  for (size_t pos = 0; pos <= text.size(); ++pos)
    for (size_t k = 0; k < literals.size(); ++k)
      if (text.compare(pos, literals[k].size(), literals[k]) == 0) return static_cast<int>(k);
  return -1;
}

bool has_label(const std::vector<Option>& options, const std::string& label) {
  for (const auto& o : options)
    if (o.first == label) return true;
  return false;
}
}  // namespace

std::string milebench_match_choice(const std::string& text, const std::vector<Option>& options) {
  if (text.empty()) return "C";
  // 1. "A. Blastomycosis" (normalised to "a blastomycosis").
  std::vector<std::string> lits;
  for (const auto& [k, v] : options) lits.push_back(text::milebench_normalize(k + " " + v));
  int hit = leftmost_first(text, lits);
  if (hit >= 0) return text::upper(text::code_points(lits[hit]).front());

  // 2. "Blastomycosis", compared with spaces removed on both sides.
  lits.clear();
  std::vector<std::string> escaped;
  for (const auto& o : options) {
    std::string p = text::milebench_normalize(o.second);
    lits.push_back(text::replace_all(p, " ", ""));
    escaped.push_back(text::replace_all(escape_regex(p), " ", ""));
  }
  hit = leftmost_first(text::replace_all(text, " ", ""), lits);
  if (hit >= 0) {
    std::string matched = text::strip(lits[hit]);
    for (size_t k = 0; k < options.size(); ++k)
      if (matched == escaped[k]) return text::upper(options[k].first);
    // Official quirk: an option holding a regex special (e.g. "3.5") never matches here.
  }

  // 3. The answer is itself a label.
  size_t len = text::code_points(text).size();
  std::string up = text::upper(text);
  if ((len == 1 || len == 2) && has_label(options, up)) return up;

  // Fallback: every character that is a label.
  std::string out;
  for (const auto& cp : text::code_points(text)) {
    std::string u = text::upper(cp);
    if (has_label(options, u)) out += u;
  }
  return out;
}

namespace {
// Python's \s in a str pattern: the text::is_space() set, spelled out for PCRE2 (whose own
// Unicode \s differs, e.g. on \x1c-\x1f).
const std::string kPySpace =
    "[\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}]";

// lmms-eval's patterns for one set of letters, compiled once per thread.
const std::vector<std::unique_ptr<text::Regex>>& letter_patterns(const std::string& letters) {
  thread_local std::map<std::string, std::vector<std::unique_ptr<text::Regex>>> cache;
  auto& out = cache[letters];
  if (!out.empty()) return out;
  const std::string L = "[" + letters + "]", S = kPySpace, colon = kPySpace.substr(0, kPySpace.size() - 1) + ":]";
  for (const auto& p : {"^(" + L + ")" + S + "*[\\.)\\]]*",
                        "(?:THE" + S + "+)?(?:ANSWER|CHOICE|OPTION)(?:" + S + "+IS)?" + colon + "+(" + L + ")",
                        "\\((" + L + ")\\)", "(" + L + ")" + S + "*(?:\\.|\\)|\\])",
                        "(?:^|" + S + ")(" + L + ")(?:" + S + "|$)"})
    out.push_back(std::make_unique<text::Regex>(p, "extract_option_letter"));
  return out;
}
}  // namespace

std::string extract_option_letter(const std::string& response, const std::string& letters) {
  std::string r = text::upper(text::strip(response));
  if (text::utf8_invalid_at(r) == std::string::npos)
    for (const auto& p : letter_patterns(letters))
      if (auto m = p->search(r, 1)) return r.substr(m->first, m->second - m->first);
  std::string found;
  int count = 0;
  for (char c : r)
    if (letters.find(c) != std::string::npos) {
      ++count;
      found = std::string(1, c);
    }
  if (count == 1) return found;
  return "";  // the first-character rule is already covered by the first pattern
}

}  // namespace kvb
