// flashcache (Yang et al. 2025, arXiv 2511.16786): keep the "outlier" KV pairs, the tokens that
// deviate most from a DCT low-pass reconstruction of the layer's K and V, with per-layer budgets
// from the high-frequency energy share (DBA). No attention scores are needed.
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "compress/frequency.h"
#include "compress/selection.h"
#include "compress/config_checks.h"
#include "core/param_recorder.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class FlashCache : public CompressionMethod {
 public:
  explicit FlashCache(const json& cfg) {
    ConfigReader r(cfg, "method 'flashcache'");
    r.get("gamma", gamma_).get("dba", dba_).get_choice("granularity", granularity_, {"head", "layer"});
    get_at_least(r, "protect_sink", sink_, 0);
    get_at_least(r, "protect_recent", recent_, 0);
    get_unit(r, "dba_min_ratio", min_ratio_);
    r.finish();
    ParamRecorder::note_range("gamma", "(0, 1]");
    if (!(gamma_ > 0.0 && gamma_ <= 1.0))
      throw UsageError(fmt::format("method 'flashcache': gamma must be in (0, 1], got {}", gamma_));
  }

  std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo& info,
                                     int64_t uniform) const override {
    if (!dba_ || layers.empty()) return CompressionMethod::layer_budgets(layers, info, uniform);
    const int64_t t = layers[0].keys.size(1);
    std::vector<double> ratios;
    for (const auto& l : layers) {
      auto s = outlier_scores(l.keys, l.values, lowpass_cutoff(gamma_, l.keys.size(1)));
      ratios.push_back(s.ratio);
      remember(l, s.dev);  // compress() reuses it: one DCT pass per layer in total
    }
    const auto lo_ratio = static_cast<int64_t>(std::ceil(min_ratio_ * static_cast<double>(t) - 1e-9));
    const int64_t lo = std::min(uniform, std::max<int64_t>(1, lo_ratio));
    const auto n = static_cast<int64_t>(layers.size());
    return dba_budgets(ratios, n * uniform, lo, t);
  }

  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t budget) override {
    const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
    auto dev = recall(layer);
    if (!dev.defined()) dev = outlier_scores(layer.keys, layer.values, lowpass_cutoff(gamma_, t)).dev;
    if (granularity_ == "layer") dev = dev.mean(0, true);  // mean over all Hkv * D columns
    const int64_t s = std::min(sink_, budget), r = std::min(recent_, budget - s);
    if (s + r > 0) {
      dev = dev.clone();
      const float inf = std::numeric_limits<float>::infinity();
      dev.narrow(1, 0, s).fill_(inf);
      dev.narrow(1, t - r, r).fill_(inf);
    }
    auto keep = top_sorted(dev, budget);
    return granularity_ == "layer" ? same_for_all_heads(keep[0], h) : KeepPlan{keep, {}, {}, {}};
  }

  json params() const override {
    return {{"gamma", gamma_}, {"dba", dba_}, {"granularity", granularity_}, {"protect_sink", sink_},
            {"protect_recent", recent_}, {"dba_min_ratio", min_ratio_}};
  }

 private:
  // Deviations computed by layer_budgets, keyed by layer and tied to the exact key tensor.
  struct Cached {
    const void* data;
    std::vector<int64_t> sizes;
    int64_t version;
    at::Tensor dev;
  };
  void remember(const LayerKV& l, const at::Tensor& dev) const {
    std::lock_guard<std::mutex> lock(mu_);
    cache_[l.layer] = {l.keys.data_ptr(), l.keys.sizes().vec(), l.keys._version(), dev};
  }
  at::Tensor recall(const LayerKV& l) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(l.layer);
    if (it == cache_.end()) return {};
    Cached c = std::move(it->second);
    cache_.erase(it);
    const bool same = c.data == l.keys.data_ptr() && c.sizes == l.keys.sizes().vec() &&
                      c.version == l.keys._version();
    return same ? c.dev : at::Tensor();
  }

  double gamma_ = 0.2;
  bool dba_ = true;
  std::string granularity_ = "head";
  int64_t sink_ = 0, recent_ = 0;
  double min_ratio_ = 0.01;
  mutable std::mutex mu_;
  mutable std::map<int64_t, Cached> cache_;
};

}  // namespace
KVB_REGISTER(CompressionMethod, FlashCache, "flashcache",
             "outlier KV by DCT low-pass deviation + dynamic layer budgets (FlashCache)");
}  // namespace kvb
