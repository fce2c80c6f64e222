// MixKV against a transcription of the official SnapKVCluster.update_kv with select_method
// "headwisemixkv" (xuyang-liu16/MixKV, mixkv/mixkv_utils.py), head_score = the online key
// redundancy (the code's `online_score`), double precision. For base "adakv" the per-head counts
// are AdaKV's as defined for this project (issue 6), then the official per-head top-k by mixed score.
#include <limits>

#include "mm_fixture.h"

namespace kvb::test {
namespace {

// Returns the mixed score [Hkv, T - W] exactly as the official code builds combined_score_head.
at::Tensor official_mixed_score(const LayerKV& layer, int64_t window_size, int64_t kernel_size,
                                at::Tensor* attn_out) {
  const at::Tensor origin_key_states = layer.keys.to(at::kDouble).unsqueeze(0);
  const at::Tensor origin_value_states = layer.values.to(at::kDouble).unsqueeze(0);
  const at::Tensor query_states = layer.window_queries.to(at::kDouble).unsqueeze(0);
  const int64_t num_heads = query_states.size(1), hkv = origin_key_states.size(1);
  const int64_t groups = num_heads / hkv, head_dim = query_states.size(3), n = origin_key_states.size(2);
  const at::Tensor key_states = origin_key_states.repeat_interleave(groups, 1);  // repeat_kv
  at::Tensor attn_weights = at::matmul(query_states.slice(2, -window_size), key_states.transpose(2, 3)) /
                            std::sqrt(static_cast<double>(head_dim));
  at::Tensor mask = at::full({window_size, window_size}, std::numeric_limits<double>::lowest(), at::kDouble);
  const at::Tensor mask_cond = at::arange(window_size);
  mask.masked_fill_(mask_cond.lt((mask_cond + 1).view({window_size, 1})), 0);
  attn_weights.slice(2, -window_size).slice(3, -window_size) += mask.unsqueeze(0).unsqueeze(0);
  attn_weights = attn_weights.softmax(-1);
  at::Tensor attn_weights_mean = attn_weights.slice(2, -window_size).slice(3, 0, n - window_size).mean(-2);
  attn_weights_mean = attn_weights_mean.view({1, -1, groups, attn_weights_mean.size(-1)}).mean(-2);
  const at::Tensor attn_score =
      at::avg_pool1d(attn_weights_mean, {kernel_size}, {1}, {kernel_size / 2});  // count_include_pad
  // calcul_similarity_score
  const at::Tensor key_norm = origin_key_states / origin_key_states.norm(2, -1, true).clamp_min(1e-12);
  const int64_t valid_len = n - window_size;
  const at::Tensor key_valid = key_norm.slice(2, 0, valid_len);
  const at::Tensor key_mean = key_norm.sum(2, true) / n;
  const at::Tensor similarity_score = at::matmul(key_valid, key_mean.transpose(-2, -1)).squeeze(-1);
  const at::Tensor key_mean_norm_sq = (key_mean * key_mean).sum(-1);
  const at::Tensor online_score = (n * key_mean_norm_sq - 1) / (n - 1);  // [1, H, 1]
  const at::Tensor neg_sim = -similarity_score;
  const at::Tensor sim_min = std::get<0>(neg_sim.min(-1, true)), sim_max = std::get<0>(neg_sim.max(-1, true));
  const at::Tensor sim_norm = (neg_sim - sim_min) / (sim_max - sim_min + 1e-8);
  const at::Tensor att_mean = attn_score.mean(-1, true);
  const at::Tensor sim_scaled = sim_norm * (att_mean / (sim_norm.mean(-1, true) + 1e-8));
  at::Tensor vnorm_score = origin_value_states.slice(2, 0, valid_len).norm(2, -1);
  const at::Tensor vnorm_min = std::get<0>(vnorm_score.min(-1, true)), vnorm_max = std::get<0>(vnorm_score.max(-1, true));
  vnorm_score = (vnorm_score - vnorm_min) / (vnorm_max - vnorm_min);
  vnorm_score = vnorm_score * (att_mean / (vnorm_score.mean(-1, true) + 1e-8));
  const at::Tensor head_score = online_score;  // per head, broadcast over tokens
  const at::Tensor importance_score = attn_score + vnorm_score;
  if (attn_out) *attn_out = attn_score.squeeze(0);
  return (head_score * sim_scaled + (1 - head_score) * importance_score).squeeze(0);
}

// The official per-head selection: sort descending, first `capacity`, then the window.
at::Tensor official_select(const at::Tensor& combined, const std::vector<int64_t>& capacity, int64_t n,
                           int64_t window_size) {
  std::vector<at::Tensor> rows;
  int64_t width = 0;
  for (int64_t h = 0; h < combined.size(0); ++h) {
    const at::Tensor indices_head = std::get<1>(combined[h].sort(-1, true));
    const at::Tensor cache_index = std::get<0>(indices_head.slice(0, 0, capacity[h]).sort());
    rows.push_back(at::cat({cache_index, at::arange(n - window_size, n, at::kLong)}));
    width = std::max(width, rows.back().numel());
  }
  at::Tensor out = at::full({combined.size(0), width}, -1, at::kLong);
  for (int64_t h = 0; h < combined.size(0); ++h) out[h].slice(0, 0, rows[h].numel()).copy_(rows[h]);
  return out;
}

// Issue 6's AdaKV: floor(alpha * sel) own best per head, the rest by a top-k over all heads.
std::vector<int64_t> adakv_capacity(const at::Tensor& attn, int64_t sel, double alpha) {
  const int64_t h = attn.size(0), floor_n = static_cast<int64_t>(std::floor(alpha * sel));
  std::vector<int64_t> cap(h, floor_n);
  std::vector<std::vector<bool>> taken(h, std::vector<bool>(attn.size(1), false));
  std::vector<std::tuple<double, int64_t, int64_t>> rest;
  for (int64_t i = 0; i < h; ++i) {
    const at::Tensor own = std::get<1>(attn[i].topk(floor_n));
    for (int64_t j = 0; j < floor_n; ++j) taken[i][own[j].item<int64_t>()] = true;
    for (int64_t t = 0; t < attn.size(1); ++t)
      if (!taken[i][t]) rest.emplace_back(attn[i][t].item<double>(), i, t);
  }
  std::sort(rest.begin(), rest.end(), [](auto& a, auto& b) { return std::get<0>(a) > std::get<0>(b); });
  for (int64_t k = 0; k < h * (sel - floor_n); ++k) ++cap[std::get<1>(rest[k])];
  return cap;
}

struct Case {
  int64_t t;
  double ratio;
  std::string base;
};

class MixKVParity : public ::testing::TestWithParam<Case> {};

TEST_P(MixKVParity, MatchesOfficialHeadwiseMix) {
  const Case c = GetParam();
  const int64_t window = 8, kernel = 5;
  for (auto [hq, hkv] : {std::pair<int64_t, int64_t>{4, 2}, {7, 1}}) {
    MmLayer m = make_mm_layer(c.t, hq, hkv, 32, 3000 + c.t + hq, window);
    const int64_t budget = uniform_budget(c.ratio, c.t);
    ASSERT_GT(budget, window) << "pick ratios above the window";
    auto method = make_method("mixkv", {{"base", c.base}, {"window", window}, {"kernel", kernel}});
    KeepPlan plan = method->compress(m.layer, m.info, budget);
    at::Tensor attn;
    const at::Tensor combined = official_mixed_score(m.layer, window, kernel, &attn);
    const int64_t sel = budget - window;
    const std::vector<int64_t> cap =
        c.base == "adakv" ? adakv_capacity(attn.to(at::kFloat), sel, 0.2) : std::vector<int64_t>(hkv, sel);
    const at::Tensor want = official_select(combined, cap, c.t, window);
    at::Tensor got = at::full(want.sizes(), -1, at::kLong);
    const auto rows = plan_rows(plan);
    ASSERT_EQ(static_cast<int64_t>(rows.size()), hkv);
    for (int64_t h = 0; h < hkv; ++h) {
      ASSERT_LE(rows[h].numel(), want.size(1)) << "head " << h;
      got[h].slice(0, 0, rows[h].numel()).copy_(rows[h]);
    }
    SCOPED_TRACE(::testing::Message() << "T=" << c.t << " ratio " << c.ratio << " base " << c.base << " GQA " << hq
                                      << ":" << hkv);
    EXPECT_TRUE(same_indices(got, want));
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* base : {"snapkv", "adakv"}) {
    out.push_back({37, 0.5, base});
    for (double r : {0.5, 0.2, 0.05}) out.push_back({501, r, base});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Official, MixKVParity, ::testing::ValuesIn(cases()), [](const auto& info) {
  return "T" + std::to_string(info.param.t) + "_r" + std::to_string(int(info.param.ratio * 100)) + "_" +
         info.param.base;
});

TEST(MixKV, MixingChangesTheSelectionAndSmallBudgetsKeepTheWindow) {
  MmLayer m = make_mm_layer(501, 4, 2, 32, 42, 32);
  auto mix = make_method("mixkv", nlohmann::json::object());
  KeepPlan small = mix->compress(m.layer, m.info, 20);  // B <= W: the last B tokens
  EXPECT_TRUE(same_indices(small.keep, at::arange(481, 501, at::kLong).unsqueeze(0).expand({2, 20})));
  KeepPlan full = mix->compress(m.layer, m.info, 501);
  EXPECT_EQ(full.keep.size(1), 501);
  EXPECT_FALSE(full.keys.defined());
  EXPECT_THROW(make_method("mixkv", {{"base", "h2o"}}), kvb::Error);
}

}  // namespace
}  // namespace kvb::test
