// snapkv_scores (one batched window GEMM + fused softmax + one reduction) against the chunked,
// per-head attention_column_sums path it replaced, at GQA shapes larger than the reference
// tests' (7 q heads per kv head, a 32-query window, a few thousand keys), both poolings.
#include <gtest/gtest.h>

#include "compress/attention.h"
#include "compress/selection.h"
#include "compress/snapkv_score.h"

namespace {

TEST(SnapKVWindowScores, MatchChunkedColumnSums) {
  for (auto [hkv, g, t, w] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{4, 7, 3001, 32}, {2, 2, 700, 8}, {1, 1, 40, 40}}) {
    at::manual_seed(t);
    kvb::LayerKV layer;
    layer.keys = at::randn({hkv, t, 64}) * 1.5;
    layer.values = at::randn({hkv, t, 64});
    layer.window_queries = at::randn({hkv * g, w, 64}) * 1.5;
    for (const char* pooling : {"avg", "max"}) {
      kvb::SnapConfig cfg;
      cfg.window = w;
      cfg.pooling = pooling;
      const at::Tensor got = kvb::snapkv_scores(layer, cfg, w);
      const at::Tensor want = kvb::kv_head_mean(
          kvb::pool_scores(kvb::attention_column_sums(layer.keys, layer.window_queries, t - w), cfg.kernel, pooling),
          hkv);
      ASSERT_EQ(got.sizes(), want.sizes());
      if (got.numel() == 0) continue;
      const double diff = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
      EXPECT_LE(diff, 1e-5 * scale + 1e-7) << "Hkv=" << hkv << " G=" << g << " T=" << t << " W=" << w << " "
                                           << pooling << ": max |diff| " << diff << " (scale " << scale << ")";
    }
  }
}

}  // namespace
