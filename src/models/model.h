#pragma once
// Model-family interface; families live in src/models/<family>/ and self-register.
#include <nlohmann/json_fwd.hpp>

namespace kvb {

class ModelFamily {
 public:
  static constexpr const char* kKind = "model family";
  virtual ~ModelFamily() = default;
};

}  // namespace kvb
