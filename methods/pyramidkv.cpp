// pyramidkv (Cai et al. 2024): SnapKV's selection with budgets that shrink linearly with depth
// (lower layers attend broadly, upper layers focus), spending the same total.
#include "compress/scoring_method.h"
#include "compress/snapkv_score.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class PyramidKV : public ScoringMethod {
 public:
  explicit PyramidKV(const json& cfg) {
    ConfigReader r(cfg, "method 'pyramidkv'");
    snap_.read(r);
    r.get("beta", beta_);
    r.finish();
    if (beta_ < 1) throw UsageError(fmt::format("method 'pyramidkv': beta must be >= 1, got {}", beta_));
  }
  Needs needs() const override {
    Needs n;
    n.window_queries = snap_.window;
    return n;
  }
  std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo&,
                                     int64_t uniform) const override {
    if (layers.empty()) return {};
    const int64_t w = snap_.effective_window(layers[0], "pyramidkv");
    return pyramid_budgets(static_cast<int64_t>(layers.size()), layers[0].keys.size(1), w, uniform, beta_);
  }
  int64_t recent(const LayerKV& layer, int64_t) const override {
    return snap_.effective_window(layer, "pyramidkv");
  }
  at::Tensor score(const LayerKV& layer, const PrefillInfo&) const override {
    return snapkv_scores(layer, snap_, snap_.effective_window(layer, "pyramidkv"));
  }
  json params() const override {
    auto j = snap_.to_json();
    j["beta"] = beta_;
    return j;
  }

 private:
  SnapConfig snap_;
  int64_t beta_ = 20;
};

}  // namespace
KVB_REGISTER(CompressionMethod, PyramidKV, "pyramidkv", "SnapKV with budgets decreasing with depth (PyramidKV)");
}  // namespace kvb
