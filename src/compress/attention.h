#pragma once
// Attention quantities that score-based methods share. Conventions (issue 6): queries
// [Hq, Tq, D] are the last Tq post-RoPE queries, query i sits at position first + i (default
// T - Tq) and sees keys t <= its position; q head j belongs to kv head j / (Hq / Hkv);
// probabilities are softmax(q.k / sqrt(D)) in float32 under that causal mask.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>

namespace kvb {

// [Hq, Tq, T] attention probabilities of `queries` over `keys` [Hkv, T, D].
// `first` < 0 means T - Tq.
at::Tensor attention_probs(const at::Tensor& keys, const at::Tensor& queries, int64_t first = -1);

// [Hq, T] column sums of attention_probs over the queries, computed `chunk` queries at a time
// so memory stays O(chunk * T) per head (H2O's accumulated attention).
at::Tensor attention_mass(const at::Tensor& keys, const at::Tensor& queries, int64_t first = -1,
                          int64_t chunk = 256);

// How attention_column_sums turns a block's logits into column sums: kAuto uses the fused
// kernel of compress/softmax_colsum.h on CPUs that have it, kATen always ATen's softmax and sum
// (the only path off the CPU; tests compare both).
enum class ColumnSumKernel { kAuto, kATen };

// [Hq, n] column sums over the queries of attention_probs(keys, queries) for keys [0, n), where
// n <= T - Tq (keys every query sees); the softmax normalisers still cover all keys each query
// sees. One GEMM + softmax per block of `chunk` q heads of a kv head (0: the whole group): no
// [Hq, Tq, T] tensor at once, no repeated keys. Blocks run in parallel on CPU.
at::Tensor attention_column_sums(const at::Tensor& keys, const at::Tensor& queries, int64_t n,
                                 int64_t chunk = 0, ColumnSumKernel kernel = ColumnSumKernel::kAuto);

// Runs fn(h) for h in [0, heads): in parallel on CPU (each call single-threaded inside),
// in order on other devices.
void for_each_head(int64_t heads, bool cpu, const std::function<void(int64_t)>& fn);

// [Hq, ...] -> [Hkv, ...]: mean over the q heads of each kv head (GQA groups are contiguous).
at::Tensor kv_head_mean(const at::Tensor& per_q_head, int64_t kv_heads);

}  // namespace kvb
