// full: keeps every token (the uncompressed reference row of every table).
#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class Full : public CompressionMethod {
 public:
  explicit Full(const json& cfg) { ConfigReader(cfg, "method 'full'").finish(); }
  // Full ignores the ratio: its budget is every token, so the records report what is kept.
  std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo&,
                                     int64_t) const override {
    std::vector<int64_t> out;
    for (const auto& l : layers) out.push_back(l.keys.size(1));
    return out;
  }
  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t) override {
    const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
    return {at::arange(t, at::kLong).unsqueeze(0).expand({h, t}).contiguous(), {}, {}, {}};
  }
  json params() const override { return json::object(); }
};

}  // namespace
KVB_REGISTER(CompressionMethod, Full, "full", "keep the whole KV cache");
}  // namespace kvb
