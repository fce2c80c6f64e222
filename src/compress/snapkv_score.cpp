#include "compress/snapkv_score.h"

#include <algorithm>
#include <string>

#include "compress/attention.h"
#include "compress/selection.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/error.h"

namespace kvb {

void SnapConfig::read(ConfigReader& r) {
  get_at_least(r, "window", window, 1);
  get_at_least(r, "kernel", kernel, 1);
  r.get_choice("pooling", pooling, {"avg", "max"});
}

nlohmann::json SnapConfig::to_json() const {
  return {{"window", window}, {"kernel", kernel}, {"pooling", pooling}};
}

int64_t SnapConfig::effective_window(const LayerKV& layer, const std::string& method) const {
  KVB_CHECK(layer.window_queries.defined(), "method '{}' needs window queries, layer {} has none",
            method, layer.layer);
  return std::min({window, layer.window_queries.size(1), layer.keys.size(1)});
}

Needs SnapConfig::needs() const {
  Needs n;
  n.window_queries = window;
  return n;
}

std::vector<int64_t> SnapConfig::pyramid_layer_budgets(const std::vector<LayerKV>& layers, int64_t uniform,
                                                       int64_t beta, const std::string& method) const {
  if (layers.empty()) return {};
  const int64_t w = effective_window(layers[0], method);
  return pyramid_budgets(static_cast<int64_t>(layers.size()), layers[0].keys.size(1), w, uniform, beta);
}

at::Tensor snapkv_scores(const LayerKV& layer, const SnapConfig& cfg, int64_t w) {
  const int64_t t = layer.keys.size(1);
  auto q = layer.window_queries.narrow(1, layer.window_queries.size(1) - w, w);
  // [Hq, T - W]: per kv head, one GEMM and one softmax over its q heads' window logits (a few
  // MB, in cache). All heads batched at once (~64 MB at 8K) ran 1.4x slower: past the GEMM, the
  // cost is the passes over the logits.
  const at::Tensor summed = attention_column_sums(layer.keys, q, t - w);
  // Average pooling is linear, so it commutes with the mean over a kv head's q heads: pooled
  // after the mean it runs over Hkv rows, not Hq (7x fewer for the 7B geometry).
  if (cfg.pooling == "avg") return pool_scores(kv_head_mean(summed, layer.keys.size(0)), cfg.kernel, cfg.pooling);
  return kv_head_mean(pool_scores(summed, cfg.kernel, cfg.pooling), layer.keys.size(0));
}

std::vector<int64_t> pyramid_budgets(int64_t layers, int64_t tokens, int64_t window,
                                     int64_t uniform, int64_t beta) {
  KVB_CHECK(beta >= 1, "pyramidkv: beta must be >= 1, got {}", beta);
  const int64_t base = uniform - window;
  if (base <= 0 || layers == 1) return std::vector<int64_t>(layers, uniform);
  int64_t lo = base / beta, hi = 2 * base - lo;
  if (hi >= tokens - window) {
    hi = tokens - window;
    lo = 2 * base - hi;
  }
  std::vector<double> share(layers);
  for (int64_t l = 0; l < layers; ++l)
    share[l] = static_cast<double>(hi) -
               static_cast<double>(l) * static_cast<double>(hi - lo) / static_cast<double>(layers - 1);
  auto out = largest_remainder(share, layers * base);
  for (auto& b : out) b += window;
  return out;
}

}  // namespace kvb
