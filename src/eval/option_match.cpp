#include "eval/option_match.h"

#include <regex>

#include "eval/text_norm.h"

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

std::string extract_option_letter(const std::string& response, const std::string& letters) {
  std::string r = text::upper(text::strip(response));
  const std::string L = "[" + letters + "]";
  const std::vector<std::regex> patterns = {
      std::regex("^(" + L + ")\\s*[\\.)\\]]*"),
      std::regex("(?:THE\\s+)?(?:ANSWER|CHOICE|OPTION)(?:\\s+IS)?[\\s:]+(" + L + ")"),
      std::regex("\\((" + L + ")\\)"),
      std::regex("(" + L + ")\\s*(?:\\.|\\)|\\])"),
      std::regex("(?:^|\\s)(" + L + ")(?:\\s|$)"),
  };
  std::smatch m;
  for (const auto& p : patterns)
    if (std::regex_search(r, m, p)) return m[1].str();
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
