#pragma once
// tokenizer.json "decoder": ByteLevel, ByteFallback, Replace, Fuse, Strip, Metaspace, Sequence.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace kvb::text {

struct DecodeToken {
  std::string text;
  bool added = false;  // added tokens pass through ByteLevel unchanged
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void apply(std::vector<DecodeToken>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, const std::string& where);

// transformers' clean_up_tokenization: drops spaces before punctuation and contractions.
std::string clean_up_tokenization(std::string s);

}  // namespace kvb::text
