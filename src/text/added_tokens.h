#pragma once
// Added tokens ("added_tokens" of tokenizer.json) found in text before normalization and
// pre-tokenization: leftmost, longest match first, as transformers.js and tokenizers do.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvb::text {

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool lstrip = false, rstrip = false, normalized = false, special = false, single_word = false;
};

struct Section {
  std::string_view text;  // the text between tokens, or the token's own text
  int token = -1;         // index into the matcher's token list, -1 for plain text
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  bool empty() const { return tokens_.empty(); }
  const AddedToken& token(int i) const { return tokens_[i]; }

  // Splits `s` into plain-text and token sections, then applies lstrip/rstrip: the
  // whitespace next to such a token is dropped from the neighbouring text.
  void split(std::string_view s, std::vector<Section>& out) const;

 private:
  std::vector<AddedToken> tokens_;
  std::array<std::vector<int>, 256> by_first_byte_;  // candidates, longest first
};

}  // namespace kvb::text
