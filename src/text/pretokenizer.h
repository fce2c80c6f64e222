#pragma once
// tokenizer.json "pre_tokenizer": Split (regex from the file), ByteLevel, Metaspace, Sequence.
// Pieces are views into the normalized section or into `owned` when a stage rewrites text.
#include <nlohmann/json_fwd.hpp>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kvb::text {

struct Pieces {
  std::vector<std::string_view> views;
  std::deque<std::string> owned;  // deque: growing it keeps earlier views valid
  bool byte_level = false;        // set by ByteLevel: the model maps each byte to a symbol
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // `section` is the index of this text among the added-token split sections (Metaspace
  // prepend_scheme "first" only prepends to section 0).
  virtual void apply(Pieces& p, size_t section) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& where);

}  // namespace kvb::text
