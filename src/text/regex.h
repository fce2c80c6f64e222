#pragma once
// A compiled PCRE2 pattern (UTF + Unicode properties, JIT) with the JavaScript `matchAll`
// iteration that the reference tokenizer uses. Patterns come from tokenizer.json.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvb::text {

class Regex {
 public:
  // `where` names the pattern's origin in error messages (file and field).
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends [begin, end) byte ranges of the successive non-empty matches in `s` (valid UTF-8).
  void find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const;
  // Python's re.search(...).group(group): the [begin, end) bytes of that group in the first
  // match of `s` (valid UTF-8); nullopt without a match or when the group did not take part.
  std::optional<std::pair<size_t, size_t>> search(std::string_view s, int group) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvb::text
