// LOOK-M against a line-by-line transcription of the official TextPivotMerge_LayerWise /
// TextAVGMergeKVCache_LayerWise / TextWeightedMerge_LayerWise (SUSTechBruce/LOOK-M,
// llava/model/kv_token_merge/modify_llama.py), in double precision.
#include "lookm_reference.h"

namespace kvb::test {
namespace {

struct Case {
  int64_t t;
  double ratio;
  std::string merge;
};

class LookMParity : public ::testing::TestWithParam<Case> {};

TEST_P(LookMParity, MatchesOfficialFormulas) {
  const Case c = GetParam();
  for (auto [hq, hkv] : {std::pair<int64_t, int64_t>{4, 2}, {7, 1}}) {
    MmLayer m = make_mm_layer(c.t, hq, hkv, 128, 1000 + c.t + hq);
    const int64_t budget = uniform_budget(c.ratio, c.t);
    auto method = make_method("lookm", {{"merge", c.merge}});
    KeepPlan plan = method->compress(m.layer, m.info, budget);

    // Official hh_score: attention summed over the prefill queries, per head; GQA: kv-head mean.
    const at::Tensor hh_score = m.layer.attention_mass.to(at::kDouble).reshape({hkv, hq / hkv, c.t}).mean(1);
    const int64_t recent = budget / 2;  // hh_ratio = recent_ratio: equal halves
    OfficialLookM ref = official_text_prior_merge(m.layer.keys, m.layer.values, hh_score, m.info.modality,
                                                  budget - recent, recent, c.merge);
    SCOPED_TRACE(::testing::Message() << "T=" << c.t << " ratio=" << c.ratio << " merge=" << c.merge
                                      << " GQA " << hq << ":" << hkv << " official mask=" << ref.used_official_mask);
    ASSERT_FALSE(plan.lengths.defined());
    EXPECT_TRUE(same_indices(plan.keep, ref.keep));
    EXPECT_TRUE(close_to(plan.keys, ref.keys));
    EXPECT_TRUE(close_to(plan.values, ref.values));
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (int64_t t : {37, 501})
    for (double r : {0.5, 0.2, 0.05})
      for (const char* merge : {"pivot", "avg", "weighted"}) out.push_back({t, r, merge});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Official, LookMParity, ::testing::ValuesIn(cases()), [](const auto& info) {
  return "T" + std::to_string(info.param.t) + "_r" + std::to_string(int(info.param.ratio * 100)) + "_" +
         info.param.merge;
});

TEST(LookM, FullBudgetMergesNothing) {
  MmLayer m = make_mm_layer(37, 4, 2, 16, 7);
  for (const char* merge : {"pivot", "avg", "weighted"}) {
    KeepPlan plan = make_method("lookm", {{"merge", merge}})->compress(m.layer, m.info, 37);
    EXPECT_TRUE(same_indices(plan.keep, at::arange(37, at::kLong).unsqueeze(0).expand({2, 37})));
    EXPECT_FALSE(plan.keys.defined()) << merge;
    EXPECT_FALSE(plan.values.defined()) << merge;
  }
}

TEST(LookM, TextTokensOutrankImageTokens) {
  // Image tokens get far more attention than text, yet text is kept first.
  MmLayer m = make_mm_layer(37, 2, 2, 16, 11);
  m.layer.attention_mass = at::where(m.info.modality.ne(0), 100.0, 1.0).to(at::kFloat).expand({2, 37}).contiguous();
  KeepPlan plan = make_method("lookm", nlohmann::json::object())->compress(m.layer, m.info, 10);
  // recent 5 = tokens 32..36; the other 5 come from the 17 text tokens, never from the image.
  const at::Tensor kept_old = plan.keep.slice(1, 0, 5);
  EXPECT_TRUE(m.info.modality.index_select(0, kept_old.reshape({-1})).eq(0).all().item<bool>());
}

TEST(LookM, RejectsUnknownMergeRule) {
  EXPECT_THROW(make_method("lookm", {{"merge", "median"}}), kvb::Error);
  EXPECT_THROW(make_method("lookm", {{"recent", 3}}), kvb::Error);
}

}  // namespace
}  // namespace kvb::test
