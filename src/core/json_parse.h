#pragma once
// Every JSON text kvbench reads is parsed here. Nesting is bounded: copying, comparing,
// printing or destroying a value recurses once per level, so a file nested 100,000 deep
// would overflow the stack long after parsing succeeded.
#include <nlohmann/json.hpp>

#include <istream>
#include <string_view>

namespace kvb {

constexpr int kMaxJsonDepth = 512;

// Like nlohmann::json::parse, and throws its parse_error for bad syntax and for nesting
// deeper than kMaxJsonDepth, so callers report both the same way.
nlohmann::json parse_json(std::string_view text);
nlohmann::json parse_json(std::istream& in);

}  // namespace kvb
