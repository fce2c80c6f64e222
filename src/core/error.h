#pragma once
// One exception type for runtime failures (exit 1) and one for usage errors (exit 2).
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace kvb {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad command-line usage or configuration: the CLI exits with code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace kvb

// KVB_CHECK(cond, "fmt {}", args...) throws kvb::Error with the formatted message.
#define KVB_CHECK(cond, ...)                                   \
  do {                                                         \
    if (!(cond)) throw ::kvb::Error(::fmt::format(__VA_ARGS__)); \
  } while (0)

#define KVB_FAIL(...) throw ::kvb::Error(::fmt::format(__VA_ARGS__))
