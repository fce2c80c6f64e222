#pragma once
// UTF-8 helpers shared by the tokenizer stages (all work on byte strings, never UTF-16).
#include <cstdint>
#include <string>
#include <string_view>

namespace kvb::text {

// Length in bytes of the UTF-8 sequence starting with lead byte `c` (1 for stray bytes).
inline int utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i] (s must be valid UTF-8) and advances i past it.
inline uint32_t utf8_next(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const int n = utf8_len(c);
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Byte offset of the first ill-formed sequence, or npos when `s` is valid UTF-8.
size_t utf8_invalid_at(std::string_view s);

// Decodes arbitrary bytes as UTF-8, replacing each maximal ill-formed subpart with U+FFFD
// (the WHATWG TextDecoder / Rust from_utf8_lossy rule that the reference decoders use).
std::string utf8_lossy(std::string_view bytes);

// Whitespace as JavaScript's String.prototype.trim sees it (the oracle's lstrip/rstrip).
bool is_js_whitespace(uint32_t cp);

}  // namespace kvb::text
