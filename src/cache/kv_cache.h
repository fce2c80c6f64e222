#pragma once
// The KV cache after prefill: per layer, per kv head lengths (AdaKV keeps different counts per
// head, so storage is padded to the longest head with a validity mask). Its only mutator of
// prefill content is apply(plan); decode appends. Positions for RoPE continue from the
// uncompressed length, which the cache remembers (next_position).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compress/plan.h"  // KeepPlan and what makes one valid

namespace kvb {

class KvCache {
 public:
  explicit KvCache(int64_t layers);

  int64_t layers() const { return static_cast<int64_t>(layers_.size()); }
  void set_prefill(int64_t layer, at::Tensor keys, at::Tensor values);  // [Hkv, T, D]
  // Validates the plan (see validate_plan) and compacts; applies replacements when given.
  void apply(int64_t layer, const KeepPlan& plan);
  // Same, and also checks that the heads together keep `expected_total` tokens.
  void apply(int64_t layer, const KeepPlan& plan, int64_t expected_total);
  void append(int64_t layer, const at::Tensor& keys, const at::Tensor& values);  // [Hkv, n, D]

  at::Tensor keys(int64_t layer) const;    // [Hkv, Lmax, D]; padding slots are zero
  at::Tensor values(int64_t layer) const;
  at::Tensor valid_mask(int64_t layer) const;  // [Hkv, Lmax] bool, undefined when no padding
  std::vector<int64_t> lengths(int64_t layer) const;
  int64_t max_length(int64_t layer) const;
  // Position of the next token: prefill length + appended tokens, whatever was evicted.
  int64_t next_position(int64_t layer) const;
  int64_t kept_tokens() const;  // sum over layers and heads
  int64_t bytes() const;        // sum of lengths x D x 2 x element size

 private:
  struct Layer {
    at::Tensor k, v;  // [Hkv, capacity, D]; slots [len_h, capacity) are zero
    std::vector<int64_t> len;
    int64_t position = 0;
    bool filled = false;
  };
  Layer& at_layer(int64_t layer, const char* what);
  const Layer& at_layer(int64_t layer, const char* what) const;
  void reserve(Layer& l, int64_t capacity);

  std::vector<Layer> layers_;
};

}  // namespace kvb
