// RMSNorm and Qwen2.5-VL's M-RoPE tables against their formulas, computed here in double precision
// (transformers: Qwen2RMSNorm; apply_multimodal_rotary_pos_emb's section split of cos/sin).
#include <gtest/gtest.h>

#include <cmath>

#include "core/config.h"
#include "models/ops.h"
#include "qwen_test_support.h"

namespace kvb {
namespace {

TEST(RmsNormFormula, MatchesTextbookWithMeanSquareNearEps) {
  // Activations whose mean square is of the order of eps: eps inside vs outside the square root
  // then differ by tens of percent.
  const int64_t T = 37, H = 64;
  const double eps = 1e-6;
  at::Tensor x = at::randn({T, H}, at::TensorOptions().dtype(at::kDouble)) * 1e-3;
  at::Tensor w = at::rand({H}, at::TensorOptions().dtype(at::kDouble)) + 0.5;
  at::Tensor got = rms_norm(x.to(at::kFloat), w.to(at::kFloat), eps).to(at::kDouble);
  double max_rel = 0;
  for (int64_t t = 0; t < T; ++t) {
    double ms = 0;
    for (int64_t h = 0; h < H; ++h) ms += x[t][h].item<double>() * x[t][h].item<double>();
    ms /= H;
    for (int64_t h = 0; h < H; ++h) {
      const double want = w[h].item<double>() * x[t][h].item<double>() / std::sqrt(ms + eps);
      max_rel = std::max(max_rel, std::abs(got[t][h].item<double>() - want) / std::abs(want));
    }
  }
  EXPECT_LT(max_rel, 1e-5) << "max relative difference from w * x / sqrt(mean(x^2) + eps)";
}

TEST(MRopeFormula, CosSinTablesFollowTheSectionSplit) {
  Backbone& bb = test::tiny_qwen_backbone();
  const nlohmann::json cfg = read_json_file(test::tiny_qwen_dir() + "/config.json");
  const std::vector<int64_t> sec = cfg.at("rope_scaling").at("mrope_section").get<std::vector<int64_t>>();
  const double theta = cfg.at("rope_theta").get<double>();
  const int64_t D = bb.geometry().head_dim, n = 37;
  ASSERT_EQ(sec[0] + sec[1] + sec[2], D / 2);
  at::Tensor pos = at::empty({3, n}, at::kLong);
  for (int64_t i = 0; i < n; ++i) pos[0][i] = i, pos[1][i] = 2 * i + 1, pos[2][i] = 3 * i + 2;  // t, h, w differ
  const at::Tensor table = bb.rope(pos).to(at::kDouble);  // [2, n, D]: cos, sin
  // emb_a[n, :] = cat(freqs, freqs) with freqs[j] = pos[a, n] / theta^(2j/D); the D columns are cut
  // into chunks of sizes mrope_section * 2 and chunk i is taken from axis i % 3.
  std::vector<int64_t> chunks(sec.begin(), sec.end());
  chunks.insert(chunks.end(), sec.begin(), sec.end());
  double max_diff = 0;
  for (int64_t t = 0; t < n; ++t) {
    int64_t col = 0;
    for (size_t i = 0; i < chunks.size(); ++i)
      for (int64_t c = 0; c < chunks[i]; ++c, ++col) {
        const int64_t j = col % (D / 2);
        const double angle = static_cast<double>(pos[i % 3][t].item<int64_t>()) / std::pow(theta, 2.0 * j / D);
        max_diff = std::max(max_diff, std::abs(table[0][t][col].item<double>() - std::cos(angle)));
        max_diff = std::max(max_diff, std::abs(table[1][t][col].item<double>() - std::sin(angle)));
      }
  }
  EXPECT_LT(max_diff, 5e-5) << "cos/sin tables differ from HF's section split (max diff " << max_diff << ")";
}

}  // namespace
}  // namespace kvb
