#pragma once
// tokenizer.json "normalizer": Unicode forms (ICU), Prepend, Replace, Sequence.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

namespace kvb::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(std::string& s) const = 0;
};

// nullptr for a JSON null; an unsupported type is an error naming `where` and the type.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& where);

// Unicode normalization form "NFC" | "NFD" | "NFKC" | "NFKD" of valid UTF-8 `s`, in place.
void unicode_normalize(std::string& s, const std::string& form);

}  // namespace kvb::text
