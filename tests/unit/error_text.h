#pragma once
// The message of the kvb::Error that `fn` throws ("no error" when it returns), for tests that
// check what an error says.
#include <string>

#include "core/error.h"

namespace kvb::test {

template <class Fn>
std::string error_text(Fn&& fn) {
  try {
    fn();
  } catch (const kvb::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace kvb::test
