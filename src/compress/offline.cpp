#include "compress/offline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "compress/attention.h"
#include "compress/plan.h"
#include "core/error.h"

namespace kvb {

void prepare_needs(OfflinePrefill& p, const CompressionMethod& method, const std::string& method_name,
                   const std::string& source) {
  const auto needs = method.needs();
  for (size_t l = 0; l < p.layers.size(); ++l) {
    auto& kv = p.layers[l];
    const auto& q = p.queries[l];
    // A stored mass (dump-kv --attention) sums over all T queries, as generation computes it;
    // one computed here could sum over the stored last Tq only. Unasked, it is dropped, as the
    // engine computes none.
    const at::Tensor stored_mass = std::exchange(kv.attention_mass, at::Tensor());
    const bool mass_from_q = needs.prefill_attention && !stored_mass.defined();
    if (needs.prefill_attention) kv.attention_mass = stored_mass;
    if (!(needs.window_queries > 0 || mass_from_q || needs.prefill_summary)) continue;
    KVB_CHECK(q.defined(), "method '{}' needs post-RoPE queries, but {} has no layers.{}.queries", method_name,
              source, l);
    KVB_CHECK(q.size(0) == p.info.geometry.q_heads, "{}: layers.{}.queries has {} heads, layer 0 has {}",
              source, l, q.size(0), p.info.geometry.q_heads);
    if (needs.window_queries > 0) {
      const int64_t w = std::min(needs.window_queries, q.size(1));
      kv.window_queries = q.narrow(1, q.size(1) - w, w);
    }
    if (mass_from_q) kv.attention_mass = attention_mass(kv.keys, q);
    if (needs.prefill_summary) {
      KVB_CHECK(q.size(1) == kv.keys.size(1),
                "method '{}' needs all {} prefill queries, but {} holds only the last {} in layers.{}.queries",
                method_name, kv.keys.size(1), source, q.size(1), l);
      kv.summary = method.summarize_prefill(kv, q, p.info);
    }
  }
}

nlohmann::json plans_to_json(const CompressionOutcome& out, const CompressionMethod& method,
                             const std::string& method_name, double ratio) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < out.plans.size(); ++l) {
    const auto& plan = out.plans[l];
    const auto counts = plan_counts(plan);
    auto keep = plan.keep.to(at::kLong).cpu().contiguous();
    nlohmann::json heads = nlohmann::json::array();
    for (int64_t h = 0; h < keep.size(0); ++h) {
      const int64_t* row = keep.data_ptr<int64_t>() + h * keep.size(1);
      heads.push_back(std::vector<int64_t>(row, row + counts[h]));
    }
    nlohmann::json entry = {{"layer", l}, {"budget", out.budgets[l]}, {"keep", heads}};
    if (plan.keys.defined()) entry["merged"] = true;  // kept slots carry replaced K/V (not in the JSON)
    layers.push_back(entry);
  }
  return {{"method", method_name}, {"ratio", ratio}, {"params", method.params()},
          {"uniform_budget", out.uniform}, {"layers", layers}};
}

}  // namespace kvb
