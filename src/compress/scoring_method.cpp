#include "compress/scoring_method.h"

#include <algorithm>

#include "compress/selection.h"

namespace kvb {

KeepPlan ScoringMethod::compress(const LayerKV& layer, const PrefillInfo& info, int64_t budget) {
  const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
  const int64_t w = std::min(recent(layer, budget), t);
  if (budget <= w) return keep_last(h, t, budget);  // no need to score anything
  return keep_top_and_recent(score(layer, info), t, budget, w);
}

}  // namespace kvb
