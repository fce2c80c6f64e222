#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace kvb {
void init_logging(Verbosity v) {
  auto logger = spdlog::stderr_color_mt("kvbench");
  logger->set_pattern("[%H:%M:%S] %^%l%$ %v");
  logger->set_level(v == Verbosity::Quiet ? spdlog::level::warn
                    : v == Verbosity::Verbose ? spdlog::level::debug
                                              : spdlog::level::info);
  spdlog::set_default_logger(logger);
}
}  // namespace kvb
