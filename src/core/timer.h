#pragma once
// Wall-clock timing on the steady clock, in milliseconds.
#include <chrono>

namespace kvb {

class Timer {
 public:
  Timer() : t0_(std::chrono::steady_clock::now()) {}
  void reset() { t0_ = std::chrono::steady_clock::now(); }
  double ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count(); }
  double seconds() const { return ms() / 1000.0; }

 private:
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace kvb
