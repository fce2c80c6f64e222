#pragma once
// The two halves shared by LOOK-M and MEDA (both from the LOOK-M code base):
//  * text-prior eviction: keep a recent window plus the top-scored older tokens, every text
//    token ranked before every image/video token;
//  * KV merging: each evicted token is folded into the kept token of the same kv head whose key
//    is most cosine-similar, so the kept slots carry the evicted information.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

class ConfigReader;

// scores [Hkv, T] (higher = more important), modality [T] uint8 (undefined = all text).
// Keeps r = floor(budget * recent_ratio) last tokens and budget - r tokens of [0, T - r): text
// tokens first (by descending score), then image/video tokens by descending score.
// Returns [Hkv, budget] int64 ascending; budget >= T keeps everything.
at::Tensor text_prior_keep(const at::Tensor& scores, const at::Tensor& modality, int64_t budget,
                           double recent_ratio);

enum class MergeRule { kAverage, kPivot, kWeighted };
const std::vector<std::string>& merge_rule_names();  // "avg", "pivot", "weighted"
MergeRule parse_merge_rule(const std::string& name);

struct MergedKV {
  at::Tensor keys, values;  // [Hkv, K, D] replacements for the kept slots
};

// keys/values [Hkv, T, D]; keep [Hkv, K] ascending, the same K for every head. Every evicted
// token i of head h is assigned to a(i) = argmax_j cos(k_i, k_keep[j]); with S_j = {i : a(i) = j}
// and n_j = |S_j| the kept slot j becomes (LOOK-M's scatter_reduce "mean", include_self):
//   avg:      (x_j + sum_{i in S_j} x_i) / (1 + n_j)
//   pivot:    (x_j + sum_{i in S_j} (x_i + x_j) / 2) / (1 + n_j)
//   weighted: only evicted slots p whose head-mean max-similarity is >= the overall mean take
//             part, each weighted by its max similarity m_i: (x_j + sum m_i x_i) / (1 + n_j')
// for x = keys and x = values alike (values follow the key assignment). The similarity matrix
// is built in row chunks, so memory stays bounded at any T.
MergedKV merge_evicted(const at::Tensor& keys, const at::Tensor& values, const at::Tensor& keep,
                       MergeRule rule);

// The config both LOOK-M and MEDA read: keys "merge" (merge_rule_names()) and "recent_ratio"
// in [0, 1]; the constructor's values are the defaults.
struct TextPriorConfig {
  std::string merge;
  double recent_ratio = 0.5;
  MergeRule rule = MergeRule::kAverage;

  TextPriorConfig(std::string default_merge, double default_recent);
  void read(ConfigReader& r);  // validates; errors name r's component
};

// LOOK-M's plan (MEDA's too, with its own per-layer budget): text-prior selection on the
// prefill attention mass averaged over each kv head's query heads, then the evicted KV merged
// into the kept slots; nothing is merged when nothing is evicted (budget >= T).
KeepPlan text_prior_merge_plan(const LayerKV& layer, const PrefillInfo& info, int64_t budget,
                               const TextPriorConfig& cfg, const std::string& method);

}  // namespace kvb
