// streaming_llm (Xiao et al. 2023): attention sinks plus a recent window, no scoring at all.
#include <algorithm>

#include "compress/selection.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

class StreamingLLM : public CompressionMethod {
 public:
  explicit StreamingLLM(const json& cfg) {
    ConfigReader r(cfg, "method 'streaming_llm'");
    get_at_least(r, "sink", sink_, 0);
    r.finish();
  }
  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t budget) override {
    const int64_t t = layer.keys.size(1);
    const int64_t s = std::min(sink_, budget);
    auto row = at::cat({at::arange(s, at::kLong), at::arange(t - (budget - s), t, at::kLong)});
    return same_for_all_heads(row, layer.keys.size(0));
  }
  json params() const override { return {{"sink", sink_}}; }

 private:
  int64_t sink_ = 4;
};

}  // namespace
KVB_REGISTER(CompressionMethod, StreamingLLM, "streaming_llm", "attention sinks + recent window (StreamingLLM)");
}  // namespace kvb
