// pyramidkv (Cai et al. 2024): SnapKV's selection with budgets that shrink linearly with depth
// (lower layers attend broadly, upper layers focus), spending the same total.
#include "compress/scoring_method.h"
#include "compress/snapkv_score.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class PyramidKV : public ScoringMethod {
 public:
  explicit PyramidKV(const json& cfg) {
    ConfigReader r(cfg, "method 'pyramidkv'");
    snap_.read(r);
    get_at_least(r, "beta", beta_, 1);
    r.finish();
  }
  Needs needs() const override { return snap_.needs(); }
  std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo&,
                                     int64_t uniform) const override {
    return snap_.pyramid_layer_budgets(layers, uniform, beta_, "pyramidkv");
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
