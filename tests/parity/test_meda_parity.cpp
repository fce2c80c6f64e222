// MEDA against transcriptions of the official code (AIoT-MLSys-Lab/MEDA):
// compute_crossmodal_entropy (modify_llama.py), the softmax allocation
// (v433_modeling_dynamic_llama.py) and AttnEntropyTextAVGMergeKVCache_LayerWise's selection and
// average merging (shared with LOOK-M's transcription).
#include <algorithm>

#include "lookm_reference.h"

namespace kvb::test {
namespace {

// compute_crossmodal_entropy(Q, K, text_indices, visual_indices), batch 1, K repeated to the
// query heads (repeat_kv), double precision.
double official_crossmodal_entropy(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& modality) {
  const at::Tensor q = q_in.to(at::kDouble), k = k_in.to(at::kDouble).repeat_interleave(q_in.size(0) / k_in.size(0), 0);
  const at::Tensor text_indices = modality.eq(0).nonzero().squeeze(1);
  const at::Tensor visual_indices = modality.ne(0).nonzero().squeeze(1);
  const at::Tensor Q_T = q.index_select(1, text_indices), K_T = k.index_select(1, text_indices);
  const at::Tensor Q_V = q.index_select(1, visual_indices), K_V = k.index_select(1, visual_indices);
  const double scaling_factor = std::sqrt(static_cast<double>(q.size(2)));
  const at::Tensor A_TV = (at::matmul(Q_T, K_V.transpose(-2, -1)) / scaling_factor).softmax(-1);
  const at::Tensor A_VT = (at::matmul(Q_V, K_T.transpose(-2, -1)) / scaling_factor).softmax(-1);
  const double epsilon = 1e-12;
  const at::Tensor A_TV_clamped = A_TV.clamp_min(epsilon), A_VT_clamped = A_VT.clamp_min(epsilon);
  const at::Tensor entropy_TV = -(A_TV_clamped * A_TV_clamped.log()).sum({-2, -1});
  const at::Tensor entropy_VT = -(A_VT_clamped * A_VT_clamped.log()).sum({-2, -1});
  return entropy_TV.mean().item<double>() / text_indices.numel() +
         entropy_VT.mean().item<double>() / visual_indices.numel();
}

class MedaParity : public ::testing::TestWithParam<int64_t> {};

TEST_P(MedaParity, EntropyBudgetsSelectionAndMerging) {
  const int64_t t = GetParam(), layers = 5, hq = 4, hkv = 2, d = 64;
  auto method = make_method("meda", nlohmann::json::object());
  ASSERT_TRUE(method->needs().prefill_summary);
  std::vector<MmLayer> mm;
  std::vector<LayerKV> kv;
  std::vector<double> entropy;
  for (int64_t l = 0; l < layers; ++l) {
    mm.push_back(make_mm_layer(t, hq, hkv, d, 77 * t + l));
    // Layers differ in how peaked their attention is, so the budgets differ.
    mm[l].queries = mm[l].queries * (0.3 + 0.1 * static_cast<double>(l));
    mm[l].layer.layer = l;
    mm[l].layer.summary = method->summarize_prefill(mm[l].layer, mm[l].queries, mm[l].info);
    entropy.push_back(official_crossmodal_entropy(mm[l].queries, mm[l].layer.keys, mm[l].info.modality));
    EXPECT_NEAR(mm[l].layer.summary.item<double>(), entropy[l], 1e-5 * std::abs(entropy[l])) << "layer " << l;
    kv.push_back(mm[l].layer);
  }
  for (double ratio : {0.5, 0.2, 0.05}) {
    const int64_t uniform = uniform_budget(ratio, t);
    const std::vector<int64_t> budgets = method->layer_budgets(kv, mm[0].info, uniform);
    // Official: weights = exp(E) / sum exp(E); layer ratio = weights * L * rho (no clamp active
    // here: checked), i.e. B_l = weights_l * L * B up to rounding; the total is kept.
    const at::Tensor e = at::tensor(entropy, at::kDouble);
    const at::Tensor weights = e.exp() / e.exp().sum();
    int64_t total = 0;
    for (int64_t l = 0; l < layers; ++l) {
      const double official = weights[l].item<double>() * layers * uniform;
      ASSERT_LT(official, static_cast<double>(t)) << "test input must not hit the clamp";
      EXPECT_NEAR(static_cast<double>(budgets[l]), official, 1.0) << "ratio " << ratio << " layer " << l;
      total += budgets[l];
    }
    EXPECT_EQ(total, layers * uniform);
    if (uniform >= 10)  // the layers really get different budgets
      EXPECT_GT(*std::max_element(budgets.begin(), budgets.end()) - *std::min_element(budgets.begin(), budgets.end()), 1);
    for (int64_t l = 0; l < layers; ++l) {
      KeepPlan plan = method->compress(mm[l].layer, mm[l].info, budgets[l]);
      const at::Tensor hh_score = mm[l].layer.attention_mass.to(at::kDouble).reshape({hkv, hq / hkv, t}).mean(1);
      const int64_t recent = budgets[l] / 2;
      OfficialLookM ref = official_text_prior_merge(mm[l].layer.keys, mm[l].layer.values, hh_score,
                                                    mm[l].info.modality, budgets[l] - recent, recent, "avg");
      SCOPED_TRACE(::testing::Message() << "T=" << t << " ratio=" << ratio << " layer " << l);
      EXPECT_TRUE(same_indices(plan.keep, ref.keep));
      EXPECT_TRUE(close_to(plan.keys, ref.keys));
      EXPECT_TRUE(close_to(plan.values, ref.values));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Official, MedaParity, ::testing::Values(37, 501));

TEST(Meda, BudgetsFollowEntropyOrder) {
  // Layer 0: zero queries -> uniform attention (maximal entropy: log L_V + log L_T exactly);
  // layer 1: queries aligned with one visual and one text key, scaled -> peaked attention;
  // layer 2: small random queries, in between.
  const int64_t t = 501, hq = 4, hkv = 2, d = 32;
  auto method = make_method("meda", nlohmann::json::object());
  std::vector<LayerKV> kv;
  std::vector<double> e;
  for (int64_t l = 0; l < 3; ++l) {
    MmLayer m = make_mm_layer(t, hq, hkv, d, 900 + l);
    const at::Tensor text = m.info.modality.eq(0).nonzero().squeeze(1);
    const at::Tensor visual = m.info.modality.ne(0).nonzero().squeeze(1);
    if (l == 0) m.queries.zero_();
    if (l == 2) m.queries.mul_(0.3);
    if (l == 1) {
      const at::Tensor kv_of_q = at::arange(hq, at::kLong).div(hq / hkv, "floor");
      for (int64_t j = 0; j < hq; ++j) {
        const at::Tensor k = m.layer.keys[kv_of_q[j].item<int64_t>()];
        m.queries[j].index_copy_(0, text, (k[visual[3].item<int64_t>()] * 40).expand({text.numel(), d}));
        m.queries[j].index_copy_(0, visual, (k[text[2].item<int64_t>()] * 40).expand({visual.numel(), d}));
      }
    }
    m.layer.layer = l;
    m.layer.summary = method->summarize_prefill(m.layer, m.queries, m.info);
    e.push_back(m.layer.summary.item<double>());
    kv.push_back(m.layer);
    if (l == 0) {
      const double expected = std::log(double(visual.numel())) + std::log(double(text.numel()));
      EXPECT_NEAR(e[0], expected, 1e-9 * expected);
    }
  }
  EXPECT_GT(e[0], e[2]);
  EXPECT_GT(e[2], e[1]);
  for (double ratio : {0.2, 0.05}) {
    const int64_t uniform = uniform_budget(ratio, t);
    const std::vector<int64_t> b = method->layer_budgets(kv, PrefillInfo{{3, hq, hkv, d}, t, mm_modality(t), {}}, uniform);
    EXPECT_NEAR(static_cast<double>(b[0] + b[1] + b[2]), 3.0 * uniform, 3.0);
    EXPECT_GT(b[0], b[2]) << "ratio " << ratio;
    EXPECT_GT(b[2], b[1]) << "ratio " << ratio;
    EXPECT_GE(b[1], static_cast<int64_t>(std::ceil(0.01 * t)));  // min_ratio floor
  }
}

TEST(Meda, ClampedLayersGiveTheirExcessToTheOthers) {
  std::vector<LayerKV> kv(4);
  for (int64_t l = 0; l < 4; ++l) {
    kv[l].keys = at::zeros({1, 100, 4});
    kv[l].summary = at::full({1}, l == 0 ? 10.0 : 0.0, at::kDouble);  // layer 0 wants ~all
  }
  auto method = make_method("meda", nlohmann::json::object());
  const std::vector<int64_t> b = method->layer_budgets(kv, PrefillInfo{{4, 1, 1, 4}, 100, {}, {}}, 50);
  EXPECT_EQ(b[0], 100);  // clamped at T
  EXPECT_EQ(b[1] + b[2] + b[3], 100);
  EXPECT_LE(std::abs(b[1] - b[3]), 1);
}

TEST(Meda, WithoutVisualTokensBudgetsAreUniform) {
  MmLayer m = make_mm_layer(37, 4, 2, 16, 5);
  m.info.modality = at::zeros({37}, at::kByte);
  auto method = make_method("meda", nlohmann::json::object());
  m.layer.summary = method->summarize_prefill(m.layer, m.queries, m.info);
  EXPECT_EQ(m.layer.summary.item<double>(), 0.0);
  const std::vector<int64_t> b = method->layer_budgets({m.layer, m.layer, m.layer}, m.info, 9);
  EXPECT_EQ(b, (std::vector<int64_t>{9, 9, 9}));
}

TEST(Meda, FullBudgetMergesNothingAndMissingSummaryIsAnError) {
  MmLayer m = make_mm_layer(37, 4, 2, 16, 6);
  auto method = make_method("meda", nlohmann::json::object());
  EXPECT_THROW(method->layer_budgets({m.layer}, m.info, 10), kvb::Error);
  EXPECT_THROW(method->summarize_prefill(m.layer, m.queries.slice(1, 0, 10), m.info), kvb::Error);
  KeepPlan plan = method->compress(m.layer, m.info, 37);
  EXPECT_EQ(plan.keep.size(1), 37);
  EXPECT_FALSE(plan.keys.defined());
  EXPECT_FALSE(plan.values.defined());
}

}  // namespace
}  // namespace kvb::test
