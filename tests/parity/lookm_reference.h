#pragma once
// Transcription of LOOK-M's official text-prior eviction + merging (modify_llama.py,
// TextPivotMerge_LayerWise and its AVG / Weighted siblings), one layer, batch 1, double
// precision. Used by the LOOK-M and MEDA parity tests (MEDA reuses these classes).
#include "mm_fixture.h"

namespace kvb::test {

struct OfficialLookM {
  at::Tensor keep;          // [H, K] ascending
  at::Tensor keys, values;  // [H, K, D] after merging
  bool used_official_mask = false;
};

// hh_score [H, T]; image = modality != 0. `hh_size` tokens by the penalised score, `recent_size`
// last tokens. The official keeps `hh_score >= 0` afterwards, which also keeps every text token
// outside the top-k; it is used verbatim when that adds nothing (text outside the recent window
// <= hh_size), otherwise the top-k + recent mask (the budget-exact reading) is used.
inline OfficialLookM official_text_prior_merge(const at::Tensor& keys_f, const at::Tensor& values_f,
                                               const at::Tensor& hh_score_in, const at::Tensor& modality,
                                               int64_t hh_size, int64_t recent_size, const std::string& merge) {
  using namespace at::indexing;
  const at::Tensor keys = keys_f.to(at::kDouble), values = values_f.to(at::kDouble);
  const int64_t h = keys.size(0), t = keys.size(1), d = keys.size(2);
  at::Tensor hh_score = hh_score_in.clone();
  // anti_image_mask: -65516 on image positions and on the recent window
  at::Tensor anti = at::zeros({h, t}, at::kDouble);
  anti.index_put_({Slice(), modality.ne(0)}, -65516.0);
  if (recent_size > 0) anti.index_put_({Slice(), Slice(t - recent_size, None)}, -65516.0);
  hh_score = hh_score + anti;
  at::Tensor keep_topk = std::get<1>(at::topk(hh_score.index({Slice(), Slice(0, t - recent_size)}), hh_size, -1));
  keep_topk = std::get<0>(keep_topk.sort(-1));
  hh_score.scatter_(1, keep_topk, 0.0);
  if (recent_size > 0) hh_score.index_put_({Slice(), Slice(t - recent_size, None)}, 0.0);
  at::Tensor mask = hh_score.ge(0);
  OfficialLookM out;
  out.used_official_mask = mask.sum(1).eq(hh_size + recent_size).all().item<bool>();
  if (!out.used_official_mask) {
    mask = at::zeros({h, t}, at::kBool).scatter_(1, keep_topk, true);
    if (recent_size > 0) mask.index_put_({Slice(), Slice(t - recent_size, None)}, true);
  }
  const at::Tensor expanded = mask.unsqueeze(-1).expand_as(keys);
  at::Tensor k_hh_recent = at::masked_select(keys, expanded).view({h, -1, d});
  at::Tensor v_hh_recent = at::masked_select(values, expanded).view({h, -1, d});
  const at::Tensor k_hh_pruned = at::masked_select(keys, ~expanded).view({h, -1, d});
  const at::Tensor v_hh_pruned = at::masked_select(values, ~expanded).view({h, -1, d});
  out.keep = mask.nonzero().index({Slice(), 1}).view({h, -1});
  if (k_hh_pruned.size(1) > 0) {
    const at::Tensor similarity = at::matmul(k_hh_pruned / k_hh_pruned.norm(2, -1, true),
                                             (k_hh_recent / k_hh_recent.norm(2, -1, true)).transpose(-1, -2));
    auto [max_values, max_indices] = similarity.max(-1);
    if (merge == "pivot") {
      const at::Tensor merged_indices = max_indices.unsqueeze(-1).repeat({1, 1, d});
      const at::Tensor k_hh_selected = at::gather(k_hh_recent, 1, merged_indices);
      const at::Tensor k_hh_merged = (k_hh_pruned + k_hh_selected) / 2;
      const at::Tensor v_hh_selected = at::gather(v_hh_recent, 1, merged_indices);
      const at::Tensor v_hh_merged = (v_hh_pruned + v_hh_selected) / 2;
      k_hh_recent = k_hh_recent.scatter_reduce(1, merged_indices, k_hh_merged, "mean", true);
      v_hh_recent = v_hh_recent.scatter_reduce(1, merged_indices, v_hh_merged, "mean", true);
    } else if (merge == "avg") {
      const at::Tensor merged_indices = max_indices.unsqueeze(-1).repeat({1, 1, d});
      k_hh_recent = k_hh_recent.scatter_reduce(1, merged_indices, k_hh_pruned, "mean", true);
      v_hh_recent = v_hh_recent.scatter_reduce(1, merged_indices, v_hh_pruned, "mean", true);
    } else {  // weighted
      const at::Tensor filter_indices = max_values.mean(0).ge(max_values.mean());  // batch dim dropped
      const at::Tensor merged_indices = max_indices.index({Slice(), filter_indices}).unsqueeze(-1).repeat({1, 1, d});
      const at::Tensor merge_weights = max_values.index({Slice(), filter_indices}).unsqueeze(-1).repeat({1, 1, d});
      const at::Tensor k_hh_merged = k_hh_pruned.index({Slice(), filter_indices, Slice()});
      const at::Tensor v_hh_merged = v_hh_pruned.index({Slice(), filter_indices, Slice()});
      k_hh_recent = k_hh_recent.scatter_reduce(1, merged_indices, merge_weights * k_hh_merged, "mean", true);
      v_hh_recent = v_hh_recent.scatter_reduce(1, merged_indices, merge_weights * v_hh_merged, "mean", true);
    }
  }
  out.keys = k_hh_recent;
  out.values = v_hh_recent;
  return out;
}

}  // namespace kvb::test
