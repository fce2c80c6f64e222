// adakv (Feng et al. 2024): a layer's B*Hkv selectable slots go to the best tokens of all kv
// heads together, so concentrated heads give budget to dispersed ones; each head is guaranteed
// floor(floor_alpha * (B - W)) of its own best tokens (the safeguard). The window W is kept
// in every head, as in SnapKV.
#include <cmath>
#include <limits>

#include "compress/selection.h"
#include "compress/snapkv_score.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class AdaKV : public CompressionMethod {
 public:
  explicit AdaKV(const json& cfg) {
    ConfigReader r(cfg, "method 'adakv'");
    snap_.read(r);
    r.get_choice("base", base_, {"snapkv", "pyramidkv"});
    get_unit(r, "floor_alpha", alpha_);
    get_at_least(r, "beta", beta_, 1);
    r.finish();
  }
  Needs needs() const override { return snap_.needs(); }
  std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo& info,
                                     int64_t uniform) const override {
    if (base_ != "pyramidkv") return CompressionMethod::layer_budgets(layers, info, uniform);
    return snap_.pyramid_layer_budgets(layers, uniform, beta_, "adakv");
  }
  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t budget) override {
    const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
    const int64_t w = snap_.effective_window(layer, "adakv");
    if (budget <= w) return keep_last(h, t, budget);
    const int64_t cand = t - w, sel = budget - w;
    auto rows = adakv_rows(snapkv_scores(layer, snap_, w), sel, alpha_);
    auto tail = at::arange(cand, t, at::kLong);
    for (auto& row : rows) row = at::cat({row, tail});
    return ragged_plan(rows);
  }
  json params() const override {
    auto j = snap_.to_json();
    j["base"] = base_;
    j["floor_alpha"] = alpha_;
    j["beta"] = beta_;
    return j;
  }

 private:
  SnapConfig snap_;
  std::string base_ = "snapkv";
  double alpha_ = 0.2;
  int64_t beta_ = 20;
};

}  // namespace
KVB_REGISTER(CompressionMethod, AdaKV, "adakv", "head-adaptive budgets over SnapKV scores with a floor (AdaKV)");
}  // namespace kvb
