#pragma once
// Reading a method parameter and checking its range in one step; errors name the component
// and the key, e.g. "method 'h2o': recent_ratio must be in [0, 1], got 2".
#include <cstdint>

#include "core/config.h"
#include "core/error.h"
#include "core/param_recorder.h"

namespace kvb {

inline void get_unit(ConfigReader& r, const char* key, double& out) {
  r.get(key, out);
  ParamRecorder::note_range(key, "[0, 1]");
  if (!(out >= 0.0 && out <= 1.0))
    throw UsageError(fmt::format("{}: {} must be in [0, 1], got {}", r.component(), key, out));
}

inline void get_at_least(ConfigReader& r, const char* key, int64_t& out, int64_t lo) {
  r.get(key, out);
  ParamRecorder::note_range(key, fmt::format(">= {}", lo));
  if (out < lo) throw UsageError(fmt::format("{}: {} must be >= {}, got {}", r.component(), key, lo, out));
}

}  // namespace kvb
