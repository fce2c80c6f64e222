// Contract matrix over every registered compression method (including ones added later):
// budgets are spent exactly, plans are sorted unique in-range, rho = 1 keeps everything and
// leaves the KV cache bit-identical, reruns are identical.
#include <gtest/gtest.h>

#include <numeric>

#include "cache/kv_cache.h"
#include "compress/attention.h"
#include "compress/method.h"
#include "compress/modality.h"
#include "compress/plan.h"
#include "core/error.h"
#include "core/registry.h"

namespace {

using kvb::CompressionMethod;
using kvb::LayerKV;
using kvb::PrefillInfo;
using Registry = kvb::Registry<CompressionMethod>;

struct Prefill {
  PrefillInfo info;
  std::vector<LayerKV> layers;
  std::vector<at::Tensor> all_queries;  // [Hq, T, D] per layer
};

constexpr int64_t kLayers = 3, kDim = 16;

// Random prefill whose modality has text, an image span and a video span, with everything any
// method's Needs can ask for.
Prefill make_prefill(int64_t t, int64_t hq, int64_t hkv, const CompressionMethod& m, uint64_t seed) {
  at::manual_seed(seed);
  Prefill p;
  p.info.geometry = {kLayers, hq, hkv, kDim};
  p.info.tokens = t;
  auto mod = at::zeros({t}, at::kByte);
  mod.narrow(0, t / 8, t / 3).fill_(kvb::kImage);
  mod.narrow(0, t / 2 + 1, t / 4).fill_(kvb::kVideo);
  p.info.modality = mod;
  p.info.media = kvb::media_spans(mod);
  const auto needs = m.needs();
  for (int64_t l = 0; l < kLayers; ++l) {
    LayerKV kv;
    kv.layer = l;
    kv.keys = at::randn({hkv, t, kDim}) * 2;
    kv.values = at::randn({hkv, t, kDim});
    auto q = at::randn({hq, t, kDim}) * 2;
    if (needs.window_queries > 0) {
      const int64_t w = std::min(t, needs.window_queries);
      kv.window_queries = q.narrow(1, t - w, w).contiguous();
    }
    if (needs.prefill_attention) kv.attention_mass = kvb::attention_mass(kv.keys, q);
    p.all_queries.push_back(q);
    p.layers.push_back(kv);
  }
  if (needs.prefill_summary)
    for (int64_t l = 0; l < kLayers; ++l)
      p.layers[l].summary = m.summarize_prefill(p.layers[l], p.all_queries[l], p.info);
  return p;
}

struct Outcome {
  std::vector<int64_t> budgets;
  std::vector<kvb::KeepPlan> plans;
};

Outcome run(CompressionMethod& m, const Prefill& p, int64_t uniform) {
  Outcome r;
  r.budgets = m.layer_budgets(p.layers, p.info, uniform);
  for (size_t l = 0; l < p.layers.size(); ++l) r.plans.push_back(m.compress(p.layers[l], p.info, r.budgets[l]));
  return r;
}

bool same_plan(const kvb::KeepPlan& a, const kvb::KeepPlan& b) {
  auto eq = [](const at::Tensor& x, const at::Tensor& y) {
    return x.defined() == y.defined() && (!x.defined() || (x.sizes() == y.sizes() && at::equal(x, y)));
  };
  return eq(a.keep, b.keep) && eq(a.lengths, b.lengths) && eq(a.keys, b.keys) && eq(a.values, b.values);
}

class MethodContract : public ::testing::TestWithParam<std::string> {};

TEST_P(MethodContract, BudgetsOrderIdentityAndDeterminism) {
  const std::string name = GetParam();
  for (int64_t t : {37, 501})
    for (auto [hq, hkv] : {std::pair<int64_t, int64_t>{4, 2}, {7, 1}})
      for (double rho : {1.0, 0.5, 0.2, 0.05}) {
        SCOPED_TRACE(::testing::Message() << name << " T=" << t << " GQA " << hq << ":" << hkv << " rho=" << rho);
        auto m = Registry::instance().create(name, nlohmann::json::object());
        const auto p = make_prefill(t, hq, hkv, *m, 1000 + t + hq);
        const int64_t b = kvb::uniform_budget(rho, t);
        const Outcome r = run(*m, p, b);
        ASSERT_EQ(r.budgets.size(), static_cast<size_t>(kLayers));
        const int64_t total = std::accumulate(r.budgets.begin(), r.budgets.end(), int64_t{0});
        // `full` keeps everything whatever the ratio: its budget is T by definition.
        const int64_t expected = name == "full" ? kLayers * t : kLayers * b;
        EXPECT_LE(std::abs(total - expected), kLayers) << "layer budgets sum to " << total;
        kvb::KvCache cache(kLayers);
        for (int64_t l = 0; l < kLayers; ++l) {
          const int64_t bl = r.budgets[l];
          EXPECT_GE(bl, 1);
          EXPECT_LE(bl, t);
          const auto& plan = r.plans[l];
          // Validates shapes, ascending unique in-range indices, and the total = Hkv * budget.
          try {
            kvb::validate_plan(plan, std::vector<int64_t>(hkv, t), kDim, hkv * bl, name);
          } catch (const kvb::Error& e) {
            ADD_FAILURE() << "layer " << l << ": " << e.what();
          }
          if (!plan.lengths.defined()) EXPECT_EQ(plan.keep.size(1), bl);
          cache.set_prefill(l, p.layers[l].keys, p.layers[l].values);
          if (rho == 1.0) {
            EXPECT_EQ(bl, t);
            EXPECT_TRUE(at::equal(plan.keep, at::arange(t, at::kLong).expand({hkv, t})));
            cache.apply(l, plan, hkv * t);
            // rho = 1 must leave the cache bit-identical to the uncompressed prefill.
            EXPECT_TRUE(at::equal(cache.keys(l), p.layers[l].keys));
            EXPECT_TRUE(at::equal(cache.values(l), p.layers[l].values));
            EXPECT_FALSE(cache.valid_mask(l).defined());
            EXPECT_EQ(cache.next_position(l), t);
          }
        }
        // Reruns: the same instance again, and a fresh instance, give identical plans.
        auto fresh = Registry::instance().create(name, nlohmann::json::object());
        for (auto* mm : {m.get(), fresh.get()}) {
          const Outcome again = run(*mm, p, b);
          EXPECT_EQ(again.budgets, r.budgets);
          for (int64_t l = 0; l < kLayers; ++l) EXPECT_TRUE(same_plan(again.plans[l], r.plans[l])) << "layer " << l;
        }
      }
}

TEST_P(MethodContract, ParamsRoundTripThroughConfig) {
  auto m = Registry::instance().create(GetParam(), nlohmann::json::object());
  auto again = Registry::instance().create(GetParam(), m->params());
  EXPECT_EQ(again->params(), m->params());
  EXPECT_THROW(Registry::instance().create(GetParam(), {{"no_such_key", 1}}), kvb::UsageError);
}

INSTANTIATE_TEST_SUITE_P(AllMethods, MethodContract, ::testing::ValuesIn(Registry::instance().names()),
                         [](const auto& info) { return info.param; });

TEST(MethodRegistry, ExpectedMethodsRegistered) {
  for (const char* n : {"full", "streaming_llm", "h2o", "snapkv", "pyramidkv", "adakv", "flashcache"})
    EXPECT_TRUE(Registry::instance().has(n)) << n;
}

}  // namespace
