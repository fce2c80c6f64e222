// snapkv (Li et al. 2024): the last W queries vote for earlier tokens; votes are pooled so
// neighbours of important tokens survive; the observation window itself is always kept.
#include "compress/scoring_method.h"
#include "compress/snapkv_score.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class SnapKV : public ScoringMethod {
 public:
  explicit SnapKV(const json& cfg) {
    ConfigReader r(cfg, "method 'snapkv'");
    snap_.read(r);
    r.finish();
  }
  Needs needs() const override { return snap_.needs(); }
  int64_t recent(const LayerKV& layer, int64_t) const override {
    return snap_.effective_window(layer, "snapkv");
  }
  at::Tensor score(const LayerKV& layer, const PrefillInfo&) const override {
    return snapkv_scores(layer, snap_, snap_.effective_window(layer, "snapkv"));
  }
  json params() const override { return snap_.to_json(); }

 private:
  SnapConfig snap_;
};

}  // namespace
KVB_REGISTER(CompressionMethod, SnapKV, "snapkv", "observation-window attention votes, pooled (SnapKV)");
}  // namespace kvb
