#pragma once
// Logging goes through spdlog to stderr; -v / --quiet pick the level.
#include <spdlog/spdlog.h>

namespace kvb {
enum class Verbosity { Quiet, Normal, Verbose };
void init_logging(Verbosity v);
}  // namespace kvb
