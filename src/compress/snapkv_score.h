#pragma once
// SnapKV's observation-window score and PyramidKV's layer budgets, shared by snapkv,
// pyramidkv and adakv (and usable by multimodal variants).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

class ConfigReader;

struct SnapConfig {
  int64_t window = 32;
  int64_t kernel = 7;
  std::string pooling = "avg";

  void read(ConfigReader& r);  // keys window, kernel, pooling (validated)
  nlohmann::json to_json() const;
  // W = min(window, Tq); errors clearly when the layer has no window queries.
  int64_t effective_window(const LayerKV& layer, const std::string& method) const;
  Needs needs() const;  // the last `window` queries
  // pyramid_budgets() for these layers (their T, this window, uniform budget, beta).
  std::vector<int64_t> pyramid_layer_budgets(const std::vector<LayerKV>& layers, int64_t uniform, int64_t beta,
                                             const std::string& method) const;
};

// [Hkv, T - W] pooled scores of tokens [0, T - W): attention probs of the last W queries
// summed over them, pooled per q head, then averaged over each kv head's q heads.
at::Tensor snapkv_scores(const LayerKV& layer, const SnapConfig& cfg, int64_t w);

// PyramidKV (official code): per-layer budgets decreasing linearly with depth around the
// uniform budget, for the selectable part (budget - W); the window W is added back.
// Rounded to sum exactly to layers * uniform (the official integer step drifts by up to L^2/2).
std::vector<int64_t> pyramid_budgets(int64_t layers, int64_t tokens, int64_t window,
                                     int64_t uniform, int64_t beta);

}  // namespace kvb
