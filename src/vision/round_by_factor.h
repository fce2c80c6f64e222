#pragma once
// qwen-vl-utils' round_by_factor / ceil_by_factor / floor_by_factor, shared by the image
// processor and the video sampler. Python's round() rounds half to even; std::nearbyint does
// too in the default floating-point rounding mode.
#include <cmath>
#include <cstdint>

namespace kvb {

inline int64_t round_by_factor(double v, int64_t f) { return static_cast<int64_t>(std::nearbyint(v / f)) * f; }
inline int64_t ceil_by_factor(double v, int64_t f) { return static_cast<int64_t>(std::ceil(v / f)) * f; }
inline int64_t floor_by_factor(double v, int64_t f) { return static_cast<int64_t>(std::floor(v / f)) * f; }

}  // namespace kvb
