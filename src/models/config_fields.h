#pragma once
// Reading transformers config.json fields the way the config classes do: a key that is absent or
// null keeps the class default; a present one must have the right JSON type (an integer field
// refuses 2.5 rather than truncating it). Errors name `where` (file and sub-config) and the key.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"

namespace kvb::config_fields {

template <class T>
void read(const nlohmann::json& obj, const char* key, T& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return;  // transformers' default applies
  const bool ok = std::is_integral_v<T> && !std::is_same_v<T, bool> ? it->is_number_integer() : true;
  try {
    if (ok) out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    KVB_FAIL("{}: field '{}' has the wrong type ({})", where, key, it->dump());
  }
  KVB_CHECK(ok, "{}: field '{}' has the wrong type ({})", where, key, it->dump());
}

inline void check_positive(const std::string& where, std::initializer_list<std::pair<const char*, int64_t>> fields) {
  for (const auto& [k, v] : fields) KVB_CHECK(v > 0, "{}: field '{}' must be positive, got {}", where, k, v);
}

}  // namespace kvb::config_fields
