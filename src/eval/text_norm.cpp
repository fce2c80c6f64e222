#include "eval/text_norm.h"

#include <unicode/locid.h>
#include <unicode/schriter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <array>
#include <cctype>

namespace kvb::text {
namespace {
const std::string kWhitespace = std::string(" \t\n\r\v\f\x1c\x1d\x1e\x1f");

// The index after the code point at s[i] (one byte for invalid UTF-8), and that code point
// (negative when invalid).
size_t next_cp(const std::string& s, size_t i, UChar32& c) {
  int32_t j = static_cast<int32_t>(i);
  U8_NEXT(s.data(), j, static_cast<int32_t>(s.size()), c);
  return static_cast<size_t>(j);
}

// Byte length of the whitespace code point at s[i], 0 when s[i] starts none.
size_t space_at(const std::string& s, size_t i) {
  if (static_cast<unsigned char>(s[i]) < 0x80) return kWhitespace.find(s[i]) != std::string::npos ? 1 : 0;
  UChar32 c;
  const size_t j = next_cp(s, i, c);
  return is_space(c) ? j - i : 0;
}

bool is_digit_cp(UChar32 c) { return c >= 0 && u_charType(c) == U_DECIMAL_DIGIT_NUMBER; }

// Python re's \d (category Nd) at the code point starting at s[i] / ending just before s[i].
bool digit_at(const std::string& s, size_t i) {
  if (i >= s.size()) return false;
  UChar32 c;
  next_cp(s, i, c);
  return is_digit_cp(c);
}
bool digit_before(const std::string& s, size_t i) {
  if (i == 0) return false;
  int32_t j = static_cast<int32_t>(i);
  UChar32 c;
  U8_PREV(s.data(), 0, j, c);
  return is_digit_cp(c);
}
}  // namespace

bool is_space(int32_t c) {
  if (c < 0) return false;
  const auto d = u_charDirection(c);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR ||
         u_charType(c) == U_SPACE_SEPARATOR;
}

std::string strip(const std::string& s) {
  size_t b = 0;
  for (size_t n; b < s.size() && (n = space_at(s, b)) > 0;) b += n;
  size_t e = b;  // end of the last non-space code point
  UChar32 c;
  for (size_t i = b; i < s.size();) {
    const size_t n = space_at(s, i);
    i = n ? i + n : next_cp(s, i, c);
    if (!n) e = i;
  }
  return s.substr(b, e - b);
}

std::string strip(const std::string& s, const std::string& chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(chars);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  UChar32 c;
  size_t i = 0;
  while (i < s.size()) {
    for (size_t n; i < s.size() && (n = space_at(s, i)) > 0;) i += n;
    const size_t b = i;
    while (i < s.size() && !space_at(s, i)) i = next_cp(s, i, c);
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
  bool comma_digits = false;  // re.search("(\d)(\,)(\d)", inText), \d being any Nd digit
  for (size_t i = 1; i + 1 < in.size(); ++i)
    if (in[i] == ',' && digit_before(in, i) && digit_at(in, i + 1)) comma_digits = true;
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
    if (out[i] == '.' && removed < 32 && !digit_at(out, i + 1)) {
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
