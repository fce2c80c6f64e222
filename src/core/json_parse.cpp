#include "core/json_parse.h"

#include <iterator>
#include <string>

namespace kvb {
using nlohmann::json;

namespace {

// A bracket count outside strings, before nlohmann builds anything: linear and allocation-free.
void check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw json::parse_error::create(
            101, i + 1, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace

json parse_json(std::string_view text) {
  check_depth(text);
  return json::parse(text.begin(), text.end());
}

json parse_json(std::istream& in) {
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return parse_json(text);
}

}  // namespace kvb
