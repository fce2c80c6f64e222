#include "vision/base64.h"

#include <array>

#include "core/error.h"

namespace kvb {

std::string base64_decode(const std::string& text, const std::string& label) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0, symbols = 0, padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    KVB_CHECK(padding == 0, "{}: invalid base64: data after '=' padding at offset {}", label, i);
    const int v = table[c];
    KVB_CHECK(v >= 0, "{}: invalid base64 character '{}' at offset {}", label, static_cast<char>(c), i);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  KVB_CHECK(symbols % 4 != 1, "{}: invalid base64: truncated data ({} symbols)", label, symbols);
  KVB_CHECK(padding <= 2 && (padding == 0 || (symbols + padding) % 4 == 0),
            "{}: invalid base64: bad '=' padding", label);
  return out;
}

}  // namespace kvb
