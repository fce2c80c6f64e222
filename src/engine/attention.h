#pragma once
// Grouped-query attention for the decoder: q heads of one group share a kv head, masks say
// which keys each query may see (causal prefill chunks, padded per-head cache lengths).
#include <ATen/ATen.h>

#include <cstdint>

namespace kvb {

// q [Hq, n, D], k and v [Hkv, L, D] with Hq a multiple of Hkv. `allowed`: undefined (every key),
// [n, L] or [Hkv, n, L] bool, true = may attend. Scale 1/sqrt(D). Returns [n, Hq*D].
// With `mass` (float32 [Hq, L]), adds each key's attention probability summed over the n
// queries (the matmul path then runs even where SDPA exists).
at::Tensor gqa_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed,
                         at::Tensor* mass = nullptr);

// [n, L] bool: query i (at absolute index offset + i) sees keys j <= offset + i.
at::Tensor causal_mask(int64_t offset, int64_t n, int64_t keys, const at::Device& device);

}  // namespace kvb
