#pragma once
// The compression-method interface (kvpress's "press" idea, made explicit). A method declares
// what it needs in `Needs`; the engine computes only that and never asks a method's type.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/kv_layout.h"

namespace kvb {

struct Needs {
  int64_t window_queries = 0;      // last W post-RoPE queries per layer
  bool prefill_attention = false;  // column sums of prefill attention [Hq, T], computed in chunks
  bool decode_hooks = false;       // on_decode after each decode step
  // Per-layer statistics over ALL prefill queries (e.g. MEDA's cross-modal attention entropy):
  // whoever runs the prefill calls summarize_prefill() once per layer with that layer's [Hq, T, D]
  // post-RoPE queries and stores the result in LayerKV::summary, so all-query tensors never pile
  // up across layers. A KV dump must then hold all T queries.
  bool prefill_summary = false;
};

struct PrefillInfo {  // per sample, shared by all layers
  ModelGeometry geometry;
  int64_t tokens = 0;      // T, the prefill length
  at::Tensor modality;     // [T] uint8 (Modality); undefined when unknown (all text)
  std::vector<Span> media;
};

struct LayerKV {  // one layer after prefill, read-only
  int64_t layer = 0;
  at::Tensor keys, values;      // [Hkv, T, D] post-RoPE
  at::Tensor window_queries;    // [Hq, W, D] or undefined
  at::Tensor attention_mass;    // [Hq, T] or undefined
  at::Tensor summary;           // summarize_prefill()'s result for this layer, or undefined
};

struct KeepPlan {
  at::Tensor keep;     // [Hkv, K] int64 ascending; with `lengths`, row h uses its first lengths[h]
  at::Tensor lengths;  // [Hkv] int64, undefined when every head keeps K
  at::Tensor keys, values;  // optional [Hkv, K, D] replacements for the kept slots (merging)
};

class CompressionMethod {
 public:
  static constexpr const char* kKind = "method";
  virtual ~CompressionMethod() = default;

  virtual Needs needs() const { return {}; }
  // Per-layer per-head budgets summing to layers * uniform (± layers). Default: uniform.
  virtual std::vector<int64_t> layer_budgets(const std::vector<LayerKV>& layers, const PrefillInfo& info,
                                             int64_t uniform) const {
    (void)info;
    return std::vector<int64_t>(layers.size(), uniform);
  }
  // Called per layer during prefill when needs().prefill_summary; `layer` has keys/values (and
  // whatever else Needs asked for), `queries` = all T post-RoPE queries [Hq, T, D]. Runs before
  // layer_budgets(); the result goes to LayerKV::summary. Must be deterministic and side-effect free.
  virtual at::Tensor summarize_prefill(const LayerKV& layer, const at::Tensor& queries,
                                       const PrefillInfo& info) const {
    (void)layer, (void)queries, (void)info;
    return {};
  }
  virtual KeepPlan compress(const LayerKV& layer, const PrefillInfo& info, int64_t budget) = 0;
  // Resolved parameters (defaults filled in) for records and plan files.
  virtual nlohmann::json params() const = 0;
};

}  // namespace kvb
