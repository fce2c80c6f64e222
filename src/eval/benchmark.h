#pragma once
// Benchmark interface; each benchmark is one file under benchmarks/ and self-registers.
#include <nlohmann/json_fwd.hpp>

namespace kvb {

class Benchmark {
 public:
  static constexpr const char* kKind = "benchmark";
  virtual ~Benchmark() = default;
};

}  // namespace kvb
