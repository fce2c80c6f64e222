#pragma once
// Most methods only rank tokens: they write score() (and optionally a recent window) and
// inherit compress(): keep the last `recent` tokens plus the top-scored rest, same count per head.
#include "compress/method.h"

namespace kvb {

class ScoringMethod : public CompressionMethod {
 public:
  // [Hkv, T] importance, higher kept first; only [0, T - recent) is read.
  virtual at::Tensor score(const LayerKV& layer, const PrefillInfo& info) const = 0;
  // Trailing tokens always kept (SnapKV's observation window, H2O's recent part).
  virtual int64_t recent(const LayerKV& layer, int64_t budget) const {
    (void)layer;
    (void)budget;
    return 0;
  }
  KeepPlan compress(const LayerKV& layer, const PrefillInfo& info, int64_t budget) override;
};

}  // namespace kvb
