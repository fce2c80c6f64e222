#include "eval/text_norm.h"

#include <unicode/locid.h>
#include <unicode/schriter.h>
#include <unicode/unistr.h>

#include <array>
#include <cctype>

namespace kvb::text {
namespace {
const std::string kWhitespace = std::string(" \t\n\r\v\f\x1c\x1d\x1e\x1f");

bool is_ws(char c) { return kWhitespace.find(c) != std::string::npos; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::string strip(const std::string& s) { return strip(s, kWhitespace); }

std::string strip(const std::string& s, const std::string& chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(chars);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    size_t b = i;
    while (i < s.size() && !is_ws(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t p; (p = s.find(sep, b)) != std::string::npos; b = p + sep.size())
    out.push_back(s.substr(b, p - b));
  out.push_back(s.substr(b));
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t b = 0;
  for (size_t p; (p = s.find(from, b)) != std::string::npos; b = p + from.size())
    out.append(s, b, p - b).append(to);
  out.append(s, b, std::string::npos);
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string lower(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

std::string upper(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toUpper(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  for (int32_t i = 0; i < u.length();) {
    int32_t n = U16_IS_LEAD(u[i]) && i + 1 < u.length() ? 2 : 1;
    std::string cp;
    u.tempSubString(i, n).toUTF8String(cp);
    out.push_back(cp);
    i += n;
  }
  return out;
}

namespace {
// evaluate.py Eval.processPunctuation. The decision per mark looks at the input text, the
// edits apply to the running output.
std::string process_punctuation(const std::string& in) {
  static const std::array<const char*, 21> kPunct = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                                     "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};
  bool comma_digits = false;  // re.search("(\d)(\,)(\d)", inText)
  for (size_t i = 1; i + 1 < in.size(); ++i)
    if (in[i] == ',' && is_digit(in[i - 1]) && is_digit(in[i + 1])) comma_digits = true;
  std::string out = in;
  for (const char* p : kPunct) {
    std::string mark(p);
    if (contains(in, mark + " ") || contains(in, " " + mark) || comma_digits)
      out = replace_all(out, mark, "");
    else
      out = replace_all(out, mark, " ");
  }
  // periodStrip "(?!<=\d)(\.)(?!\d)" removes a period not followed by a digit (the first
  // lookahead can never match at a '.'); sub(..., re.UNICODE) makes count = 32.
  std::string res;
  int removed = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '.' && removed < 32 && !(i + 1 < out.size() && is_digit(out[i + 1]))) {
      ++removed;
      continue;
    }
    res += out[i];
  }
  return res;
}
}  // namespace

std::string milebench_normalize(const std::string& answer) {
  std::string a = replace_all(answer, "\n", " ");
  a = replace_all(a, "\t", " ");
  a = strip(a);
  a = process_punctuation(a);
  a = strip(a, "'");
  a = strip(a, "\"");
  return lower(strip(a));
}

}  // namespace kvb::text
