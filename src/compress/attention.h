#pragma once
// Attention quantities that score-based methods share. Conventions (issue 6): queries
// [Hq, Tq, D] are the last Tq post-RoPE queries, query i sits at position first + i (default
// T - Tq) and sees keys t <= its position; q head j belongs to kv head j / (Hq / Hkv);
// probabilities are softmax(q.k / sqrt(D)) in float32 under that causal mask.
#include <ATen/ATen.h>

#include <cstdint>

namespace kvb {

// [Hq, Tq, T] attention probabilities of `queries` over `keys` [Hkv, T, D].
// `first` < 0 means T - Tq.
at::Tensor attention_probs(const at::Tensor& keys, const at::Tensor& queries, int64_t first = -1);

// [Hq, T] column sums of attention_probs over the queries, computed `chunk` queries at a time
// so memory stays O(chunk * T) per head (H2O's accumulated attention).
at::Tensor attention_mass(const at::Tensor& keys, const at::Tensor& queries, int64_t first = -1,
                          int64_t chunk = 256);

// [Hq, ...] -> [Hkv, ...]: mean over the q heads of each kv head (GQA groups are contiguous).
at::Tensor kv_head_mean(const at::Tensor& per_q_head, int64_t kv_heads);

}  // namespace kvb
