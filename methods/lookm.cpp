// LOOK-M (Wan et al., EMNLP 2024, arXiv 2406.18139; code SUSTechBruce/LOOK-M,
// llava/model/kv_token_merge/modify_llama.py, classes TextPivotMerge_LayerWise,
// TextAVGMergeKVCache_LayerWise, TextWeightedMerge_LayerWise).
//
// Spec, per layer with per-head budget B (Hkv kv heads, T prefill tokens):
//   score s[h,t] = accumulated prefill attention of token t (column sum of the causal softmax over
//     all T queries, as the official H2O-style hh_score = attn.sum(0).sum(1)), averaged over the
//     query heads of kv head h (GQA; the official LLaVA has no GQA).
//   recent r = floor(B * recent_ratio) last tokens are kept; the other B - r come from [0, T - r)
//     with text tokens ranked before every image/video token (official: -65516 added to image
//     scores), each class by descending s.
//   merging (merge = "pivot" | "avg" | "weighted", see compress/text_prior_merge.h): every evicted
//     token is folded into its most cosine-similar kept key of the same head.
// Defaults from the official release: merge "pivot" (scripts/text-prior-pivot-merge_eval.sh),
//   hh_ratio = recent_ratio = 0.1 of T there, i.e. recent_ratio = 0.5 of the budget here.
// Choices:
//   * The official mask `hh_score >= 0` also keeps every text token beyond the top-k, so its cache
//     can exceed hh + recent; we keep exactly B (identical whenever the text tokens outside the
//     recent window number <= B - r, the MileBench case it was written for).
//   * Tokens ranked by float32 sums in two passes (text, then media) instead of the fp16 -65516
//     offset, which in fp16 flattens all image scores to one value.
//   * No compression step at decode time (the official evicts once, at prefill, too).
#include "compress/method.h"
#include "compress/text_prior_merge.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class LookM : public CompressionMethod {
 public:
  explicit LookM(const json& cfg) {
    ConfigReader r(cfg, "method 'lookm'");
    cfg_.read(r);
    r.finish();
  }

  Needs needs() const override {
    Needs n;
    n.prefill_attention = true;
    return n;
  }

  KeepPlan compress(const LayerKV& layer, const PrefillInfo& info, int64_t budget) override {
    return text_prior_merge_plan(layer, info, budget, cfg_, "lookm");
  }

  json params() const override { return {{"merge", cfg_.merge}, {"recent_ratio", cfg_.recent_ratio}}; }

 private:
  TextPriorConfig cfg_{"pivot", 0.5};
};

}  // namespace
KVB_REGISTER(CompressionMethod, LookM, "lookm",
             "LOOK-M: text-prior eviction by prefill attention + merging of evicted KV (pivot/avg/weighted)");
}  // namespace kvb
