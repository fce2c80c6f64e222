#pragma once
// Compression policy shared by generation (the engine) and offline runs (`kvbench compress`,
// `kvbench bench-compress`, tests): the uniform budget of a retention ratio, what a valid keep
// plan is, and the one compression step that turns a prefill into per-layer budgets and plans.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

// Uniform per-layer per-head budget: B = max(1, round(ratio * tokens)), at most `tokens`.
int64_t uniform_budget(double ratio, int64_t tokens);

// Kept count of each head of a plan (plan.lengths, or keep.size(1) for every head).
std::vector<int64_t> plan_counts(const KeepPlan& plan);

// [H, width] bool: slot j of head h is in use when j < counts[h].
at::Tensor count_mask(const std::vector<int64_t>& counts, int64_t width);

// Throws kvb::Error naming `where` unless `plan` is a valid plan for heads of `lengths`:
// keep [H, K] int64, lengths [H] in [0, K], each row's first count ascending, unique, in
// [0, lengths[h]); replacements, when given, [H, K, D] with D = head_dim. `expected_total`
// (sum of counts over heads) is checked when >= 0.
void validate_plan(const KeepPlan& plan, const std::vector<int64_t>& lengths, int64_t head_dim,
                   int64_t expected_total, const std::string& where);

struct CompressionOutcome {
  int64_t uniform = 0;
  std::vector<int64_t> budgets;  // per layer, per head; clamped to T
  std::vector<KeepPlan> plans;   // validated: each layer's heads keep budgets[l] * Hkv tokens in all
};

// The compression step: budgets for `ratio` (the method's layer_budgets, each clamped to T),
// then every layer's plan, each validated. `layers` carry what method.needs() asked for.
// `method_name` names the method in errors (empty: "compression method").
CompressionOutcome compression_step(CompressionMethod& method, const std::vector<LayerKV>& layers,
                                    const PrefillInfo& info, double ratio, const std::string& method_name);

}  // namespace kvb
