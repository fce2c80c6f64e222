#include "text/added_tokens.h"

#include <algorithm>
#include <cctype>

#include "text/utf8.h"

namespace kvb::text {
namespace {

bool is_word_byte(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

// Start of the code point that ends at s[end - 1].
size_t last_cp_start(std::string_view s, size_t end) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty()) {
    size_t i = last_cp_start(s, s.size()), k = i;
    if (!is_js_whitespace(utf8_next(s, k))) break;
    s = s.substr(0, i);
  }
  return s;
}

std::string_view trim_start(std::string_view s) {
  while (!s.empty()) {
    size_t k = 0;
    if (!is_js_whitespace(utf8_next(s, k))) break;
    s = s.substr(k);
  }
  return s;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (int i = 0; i < static_cast<int>(tokens_.size()); ++i)
    if (!tokens_[i].content.empty()) by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  for (auto& v : by_first_byte_)
    std::stable_sort(v.begin(), v.end(),
                     [&](int a, int b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
}

void AddedTokenMatcher::split(std::string_view s, std::vector<Section>& out) const {
  const size_t first = out.size();
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    int hit = -1;
    for (int t : by_first_byte_[static_cast<unsigned char>(s[i])]) {
      const AddedToken& tok = tokens_[t];
      if (s.compare(i, tok.content.size(), tok.content) != 0) continue;
      if (tok.single_word) {
        const size_t e = i + tok.content.size();
        if ((i > 0 && is_word_byte(s[i - 1])) || (e < s.size() && is_word_byte(s[e]))) continue;
      }
      hit = t;
      break;
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    if (i > start) out.push_back({s.substr(start, i - start), -1});
    out.push_back({s.substr(i, tokens_[hit].content.size()), hit});
    i += tokens_[hit].content.size();
    start = i;
  }
  if (start < s.size()) out.push_back({s.substr(start), -1});

  for (size_t i = first; i < out.size(); ++i) {
    if (out[i].token < 0) continue;
    const AddedToken& tok = tokens_[out[i].token];
    if (tok.lstrip && i > first && out[i - 1].token < 0) out[i - 1].text = trim_end(out[i - 1].text);
    if (tok.rstrip && i + 1 < out.size() && out[i + 1].token < 0) out[i + 1].text = trim_start(out[i + 1].text);
  }
}

}  // namespace kvb::text
