#include "compress/text_prior_merge.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/attention.h"
#include "compress/method.h"
#include "compress/selection.h"
#include "compress/config_checks.h"
#include "core/config.h"
#include "core/error.h"

namespace kvb {

at::Tensor text_prior_keep(const at::Tensor& scores, const at::Tensor& modality, int64_t budget,
                           double recent_ratio) {
  KVB_CHECK(scores.dim() == 2, "text-prior scores must be [Hkv, T], got {} dims", scores.dim());
  KVB_CHECK(recent_ratio >= 0 && recent_ratio <= 1, "recent_ratio must be in [0, 1], got {}", recent_ratio);
  const int64_t h = scores.size(0), t = scores.size(1);
  KVB_CHECK(budget >= 1, "budget must be >= 1, got {}", budget);
  if (budget >= t) return at::arange(t, at::kLong).unsqueeze(0).expand({h, t}).contiguous();
  const int64_t recent = std::min<int64_t>(budget, static_cast<int64_t>(std::floor(budget * recent_ratio)));
  const int64_t heavy = budget - recent, older = t - recent;  // heavy <= older since budget < t
  std::vector<at::Tensor> parts;
  if (heavy > 0) {
    at::Tensor is_text = modality.defined() ? modality.slice(0, 0, older).eq(int64_t(kText))
                                            : at::ones({older}, at::kBool);
    const int64_t n_text = is_text.sum().item<int64_t>();
    const at::Tensor old = scores.slice(1, 0, older).to(at::kFloat);
    const float ninf = -std::numeric_limits<float>::infinity();
    // Two passes instead of adding a large constant to text scores: an additive prior of the
    // size needed would round away the differences between small attention sums.
    const int64_t from_text = std::min(heavy, n_text);
    if (from_text > 0) parts.push_back(top_sorted(at::where(is_text, old, ninf), from_text));
    if (heavy > from_text) parts.push_back(top_sorted(at::where(is_text, ninf, old), heavy - from_text));
  }
  if (recent > 0) parts.push_back(at::arange(older, t, at::kLong).unsqueeze(0).expand({h, recent}));
  return std::get<0>(at::cat(parts, 1).sort(1));
}

const std::vector<std::string>& merge_rule_names() {
  static const std::vector<std::string> names = {"avg", "pivot", "weighted"};
  return names;
}

MergeRule parse_merge_rule(const std::string& name) {
  if (name == "avg") return MergeRule::kAverage;
  if (name == "pivot") return MergeRule::kPivot;
  if (name == "weighted") return MergeRule::kWeighted;
  KVB_FAIL("unknown merge rule '{}' (avg, pivot, weighted)", name);
}

namespace {

// Rows of `evicted` against rows of `kept` (both unit-norm): the best match and its cosine.
std::pair<at::Tensor, at::Tensor> best_match(const at::Tensor& evicted, const at::Tensor& kept) {
  const int64_t e = evicted.size(0), k = std::max<int64_t>(1, kept.size(0));
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 18) / k);  // ~1 MB: stays in the L2 cache
  std::vector<at::Tensor> values, indices;
  const at::Tensor kept_t = kept.t();
  for (int64_t b = 0; b < e; b += chunk) {
    auto [v, i] = at::matmul(evicted.slice(0, b, std::min(e, b + chunk)), kept_t).max(1);
    values.push_back(v);
    indices.push_back(i);
  }
  return {at::cat(values), at::cat(indices)};
}

at::Tensor fold(const at::Tensor& kept, const at::Tensor& evicted, const at::Tensor& target,
                const at::Tensor& weight, MergeRule rule) {
  at::Tensor src = evicted;
  if (rule == MergeRule::kPivot) src = (evicted + kept.index_select(0, target)) / 2;
  if (rule == MergeRule::kWeighted) src = evicted * weight.unsqueeze(1);
  at::Tensor sum = at::zeros_like(kept).index_add_(0, target, src);
  at::Tensor count = at::zeros({kept.size(0)}, kept.options()).index_add_(
      0, target, at::ones({target.size(0)}, kept.options()));
  return (kept + sum) / (count + 1).unsqueeze(1);
}

}  // namespace

MergedKV merge_evicted(const at::Tensor& keys, const at::Tensor& values, const at::Tensor& keep,
                       MergeRule rule) {
  const int64_t h = keys.size(0), t = keys.size(1), k = keep.size(1);
  KVB_CHECK(keep.dim() == 2 && keep.size(0) == h, "keep must be [Hkv, K]");
  const at::Tensor unit = keys / keys.norm(2, -1, true).clamp_min(1e-12);
  std::vector<at::Tensor> evicted(h), target(h), match(h);
  const bool cpu = keys.device().is_cpu();
  for_each_head(h, cpu, [&](int64_t i) {
    at::Tensor dropped = at::ones({t}, at::kBool);
    dropped.index_fill_(0, keep[i], false);
    evicted[i] = dropped.nonzero().squeeze(1);
    std::tie(match[i], target[i]) =
        best_match(unit[i].index_select(0, evicted[i]), unit[i].index_select(0, keep[i]));
  });
  at::Tensor selected;  // weighted merge: evicted slots that take part (shared by all heads)
  if (rule == MergeRule::kWeighted && t > k) {
    const at::Tensor m = at::stack(match);  // [Hkv, E]
    selected = m.mean(0).ge(m.mean()).nonzero().squeeze(1);
  }
  std::vector<at::Tensor> out_k(h), out_v(h);
  for_each_head(h, cpu, [&](int64_t i) {
    at::Tensor ev = evicted[i], tg = target[i], w = match[i];
    if (selected.defined()) ev = ev.index_select(0, selected), tg = tg.index_select(0, selected),
                            w = w.index_select(0, selected);
    out_k[i] = fold(keys[i].index_select(0, keep[i]), keys[i].index_select(0, ev), tg, w, rule);
    out_v[i] = fold(values[i].index_select(0, keep[i]), values[i].index_select(0, ev), tg, w, rule);
  });
  return {at::stack(out_k), at::stack(out_v)};
}

TextPriorConfig::TextPriorConfig(std::string default_merge, double default_recent)
    : merge(std::move(default_merge)), recent_ratio(default_recent), rule(parse_merge_rule(merge)) {}

void TextPriorConfig::read(ConfigReader& r) {
  r.get_choice("merge", merge, merge_rule_names());
  get_unit(r, "recent_ratio", recent_ratio);
  rule = parse_merge_rule(merge);
}

KeepPlan text_prior_merge_plan(const LayerKV& layer, const PrefillInfo& info, int64_t budget,
                               const TextPriorConfig& cfg, const std::string& method) {
  KVB_CHECK(layer.attention_mass.defined(), "method '{}' needs the prefill attention mass (layer {})", method,
            layer.layer);
  KeepPlan plan;
  plan.keep = text_prior_keep(kv_head_mean(layer.attention_mass.to(at::kFloat), layer.keys.size(0)),
                              info.modality, budget, cfg.recent_ratio);
  if (plan.keep.size(1) < layer.keys.size(1)) {
    MergedKV merged = merge_evicted(layer.keys, layer.values, plan.keep, cfg.rule);
    plan.keys = merged.keys;
    plan.values = merged.values;
  }
  return plan;
}

}  // namespace kvb
