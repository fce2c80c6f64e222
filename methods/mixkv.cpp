// MixKV (Liu et al. 2025, arXiv 2510.20707; code xuyang-liu16/MixKV, mixkv/mixkv_utils.py,
// SnapKVCluster / AdaKVCluster with select_method "headwisemixkv").
//
// Spec, per layer, kv head h, window W (SnapKV's), candidates t in [0, T - W):
//   a[t]  = SnapKV's pooled window attention (mean over the W window queries, GQA mean, pooled).
//   abar  = mean_t a[t]  (the scale every other score is brought to).
//   diversity: u_t = k_t / |k_t|, mu = (1/T) sum_{all T} u_t; d[t] = -(u_t . mu), min-max
//     normalised over the candidates with +1e-8 in the denominator, times abar / (mean + 1e-8).
//   intrinsic importance: n[t] = |v_t|, min-max normalised, times abar / (mean + 1e-8).
//   redundancy r_h = mean pairwise cosine of the head's keys = (T |mu|^2 - 1) / (T - 1).
//   mixed score m[t] = r_h * d[t] + (1 - r_h) * (a[t] + n[t]).
//   base "snapkv": keep the window plus the top B - W by m; "adakv": AdaKV's per-head counts,
//     computed from the attention scores a, then the top count_h by m in each head.
// Defaults: base "snapkv" with that method's window/kernel/pooling (32/7/avg), AdaKV's
//   floor_alpha 0.2. Ties go to the lower index (top_sorted).
// Choices:
//   * r_h is computed online from the layer's keys (the official code's commented-out
//     `online_score`); the released code reads an offline per-(layer, head) table measured on
//     Qwen2-VL-7B (visual_head/head_score/qwen_kv_similarity.json), which fits no other model.
//   * The official scripts run kernel 5; we keep the base method's kernel so that MixKV and its
//     base differ only by the mixing.
//   * Constant value norms (max = min) give n = 0 instead of the official 0/0 = NaN.
//   * Max pooling: SnapKV's scores pool each query head before the GQA mean, the official
//     MixKV pools after it (identical for the default avg pooling).
#include "compress/method.h"
#include "compress/selection.h"
#include "compress/snapkv_score.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/registry.h"

namespace kvb {
namespace {

// Min-max normalise each row to [0, 1] (eps in the denominator) and bring its mean to `target`.
at::Tensor to_attention_scale(const at::Tensor& x, const at::Tensor& target, double eps) {
  const at::Tensor lo = std::get<0>(x.min(1, true)), hi = std::get<0>(x.max(1, true));
  const at::Tensor span = hi - lo + eps;
  const at::Tensor norm = at::where(span.gt(0), (x - lo) / span, at::zeros_like(x));
  return norm * (target / (norm.mean(1, true) + 1e-8));
}

class MixKV : public CompressionMethod {
 public:
  explicit MixKV(const json& cfg) {
    ConfigReader r(cfg, "method 'mixkv'");
    r.get_choice("base", base_, {"snapkv", "adakv"});
    snap_.read(r);
    get_unit(r, "floor_alpha", alpha_);
    r.finish();
  }

  Needs needs() const override { return snap_.needs(); }

  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t budget) override {
    const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
    const int64_t w = snap_.effective_window(layer, "mixkv");
    if (budget >= t) return keep_last(h, t, t);
    if (budget <= w) return keep_last(h, t, budget);
    const int64_t cand = t - w, sel = budget - w;
    // SnapKV sums over the window; the official MixKV averages (the scale the others are set to).
    const at::Tensor attn = snapkv_scores(layer, snap_, w) / static_cast<double>(w);  // [H, cand]
    const at::Tensor mixed = mixed_scores(layer, attn, cand);
    const at::Tensor tail = at::arange(cand, t, at::kLong);
    std::vector<at::Tensor> rows;
    if (base_ == "adakv") {
      // AdaKV decides how many tokens each head keeps (from attention); the mix decides which.
      rows = adakv_rows(attn, sel, alpha_);
      for (int64_t i = 0; i < h; ++i) rows[i] = top_sorted(mixed.slice(0, i, i + 1), rows[i].numel())[0];
    } else {
      const at::Tensor top = top_sorted(mixed, sel);
      for (int64_t i = 0; i < h; ++i) rows.push_back(top[i]);
    }
    for (auto& row : rows) row = at::cat({row, tail});
    return ragged_plan(rows);
  }

  json params() const override {
    json j = snap_.to_json();
    j["base"] = base_;
    if (base_ == "adakv") j["floor_alpha"] = alpha_;
    return j;
  }

 private:
  at::Tensor mixed_scores(const LayerKV& layer, const at::Tensor& attn, int64_t cand) const {
    const int64_t t = layer.keys.size(1);
    const at::Tensor keys = layer.keys.to(at::kFloat), values = layer.values.to(at::kFloat);
    const at::Tensor unit = keys / keys.norm(2, -1, true).clamp_min(1e-12);  // F.normalize
    const at::Tensor mu = unit.mean(1, true);                                 // [H, 1, D]
    const at::Tensor cos_to_mean = at::matmul(unit.slice(1, 0, cand), mu.transpose(1, 2)).squeeze(2);
    // Mean pairwise cosine over distinct pairs: (|sum u|^2 - T) / (T (T - 1)).
    const at::Tensor redundancy =
        (mu.squeeze(1).pow(2).sum(1, true) * double(t) - 1) / double(std::max<int64_t>(1, t - 1));  // [H, 1]
    const at::Tensor abar = attn.mean(1, true);
    const at::Tensor diversity = to_attention_scale(-cos_to_mean, abar, 1e-8);
    const at::Tensor vnorm = to_attention_scale(values.slice(1, 0, cand).norm(2, -1), abar, 0.0);
    return redundancy * diversity + (1 - redundancy) * (attn + vnorm);
  }

  SnapConfig snap_;
  std::string base_ = "snapkv";
  double alpha_ = 0.2;
};

}  // namespace
KVB_REGISTER(CompressionMethod, MixKV, "mixkv",
             "MixKV: head-wise mix of importance (attention + value norm) and key diversity over SnapKV/AdaKV");
}  // namespace kvb
