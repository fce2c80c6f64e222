#pragma once
// String predicates the standard library gains only in C++20.
#include <string>

namespace kvb {

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace kvb
