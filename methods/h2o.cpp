// h2o (Zhang et al. 2023): heavy hitters by accumulated attention plus a recent window.
#include <cmath>

#include "compress/attention.h"
#include "compress/scoring_method.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class H2O : public ScoringMethod {
 public:
  explicit H2O(const json& cfg) {
    ConfigReader r(cfg, "method 'h2o'");
    get_unit(r, "recent_ratio", recent_ratio_);
    r.finish();
  }
  Needs needs() const override {
    Needs n;
    n.prefill_attention = true;
    return n;
  }
  int64_t recent(const LayerKV&, int64_t budget) const override {
    return static_cast<int64_t>(std::floor(static_cast<double>(budget) * recent_ratio_));
  }
  at::Tensor score(const LayerKV& layer, const PrefillInfo&) const override {
    KVB_CHECK(layer.attention_mass.defined(), "method 'h2o' needs prefill attention mass, layer {} has none",
              layer.layer);
    return kv_head_mean(layer.attention_mass.to(at::kFloat), layer.keys.size(0));
  }
  json params() const override { return {{"recent_ratio", recent_ratio_}}; }

 private:
  double recent_ratio_ = 0.5;
};

}  // namespace
KVB_REGISTER(CompressionMethod, H2O, "h2o", "heavy hitters by accumulated attention + recent window (H2O)");
}  // namespace kvb
