#include "compress/offline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "compress/attention.h"
#include "compress/modality.h"
#include "compress/plan.h"
#include "compress/tensor_fmt.h"
#include "core/error.h"
#include "core/safetensors.h"

namespace kvb {

namespace {

// A non-finite key or query turns every score downstream into NaN and the plan into noise.
at::Tensor finite(at::Tensor t, const std::string& path, const std::string& name) {
  KVB_CHECK(at::isfinite(t).all().item<bool>(), "{}: {} holds NaN or infinite values", path, name);
  return t;
}

}  // namespace

OfflinePrefill read_kv_file(const std::string& path) {
  auto st = SafeTensors::open(path);
  OfflinePrefill p;
  std::set<std::string> read = {"modality"};  // every name looked up is an expected tensor
  auto name = [&read](int64_t l, const char* what) {
    return *read.insert(fmt::format("layers.{}.{}", l, what)).first;
  };
  for (int64_t l = 0; st.has(name(l, "keys")); ++l) {
    LayerKV kv;
    kv.layer = l;
    kv.keys = finite(st.get(name(l, "keys"), at::kFloat), path, name(l, "keys"));
    KVB_CHECK(st.has(name(l, "values")), "{}: has {} but no {}", path, name(l, "keys"), name(l, "values"));
    kv.values = finite(st.get(name(l, "values"), at::kFloat), path, name(l, "values"));
    KVB_CHECK(kv.keys.dim() == 3 && kv.keys.sizes() == kv.values.sizes() && kv.keys.size(0) >= 1 &&
                  kv.keys.size(2) >= 1,
              "{}: {} {} and {} {} must both be [Hkv, T, D] with Hkv, D >= 1", path, name(l, "keys"),
              shape_str(kv.keys), name(l, "values"), shape_str(kv.values));
    if (l > 0)
      KVB_CHECK(kv.keys.sizes() == p.layers[0].keys.sizes(), "{}: {} is {}, layer 0 is {}", path,
                name(l, "keys"), shape_str(kv.keys), shape_str(p.layers[0].keys));
    at::Tensor q;
    if (st.has(name(l, "queries"))) {
      q = finite(st.get(name(l, "queries"), at::kFloat), path, name(l, "queries"));
      KVB_CHECK(q.dim() == 3 && q.size(2) == kv.keys.size(2) && q.size(0) >= 1 && q.size(0) % kv.keys.size(0) == 0 &&
                    q.size(1) >= 1 && q.size(1) <= kv.keys.size(1),
                "{}: {} is {}; expected [Hq, Tq, {}] with Hq a positive multiple of {} and 1 <= Tq <= {}", path,
                name(l, "queries"), shape_str(q), kv.keys.size(2), kv.keys.size(0), kv.keys.size(1));
    }
    p.layers.push_back(kv);
    p.queries.push_back(q);
  }
  KVB_CHECK(!p.layers.empty(), "{}: no layers.0.keys; expected layers.{{l}}.keys / values [Hkv, T, D]", path);
  // A misnamed tensor (layers.1.key) would otherwise silently end the layers early.
  for (const auto& t : st.tensors())
    KVB_CHECK(read.count(t.name), "{}: unexpected tensor '{}' (after {} layers); a KV dump holds layers.{{l}}.keys, "
              "values and queries for consecutive l from 0, and modality", path, t.name, p.layers.size());
  const auto& k0 = p.layers[0].keys;
  const int64_t t = k0.size(1);
  KVB_CHECK(t >= 1, "{}: layers.0.keys has no tokens", path);
  p.info.tokens = t;
  p.info.geometry = {static_cast<int64_t>(p.layers.size()), p.queries[0].defined() ? p.queries[0].size(0) : k0.size(0),
                     k0.size(0), k0.size(2)};
  if (st.has("modality")) {
    auto m = st.get("modality", at::kLong);
    KVB_CHECK(m.dim() == 1 && m.size(0) == t, "{}: modality is {}, expected [{}]", path, shape_str(m), t);
    KVB_CHECK(m.min().item<int64_t>() >= 0 && m.max().item<int64_t>() <= kVideo,
              "{}: modality values must be 0 (text), 1 (image) or 2 (video)", path);
    p.info.modality = m.to(at::kByte);
    p.info.media = media_spans(p.info.modality);
  }
  return p;
}

void prepare_needs(OfflinePrefill& p, const CompressionMethod& method, const std::string& method_name,
                   const std::string& source) {
  const auto needs = method.needs();
  const bool wants_q = needs.window_queries > 0 || needs.prefill_attention || needs.prefill_summary;
  for (size_t l = 0; l < p.layers.size(); ++l) {
    auto& kv = p.layers[l];
    const auto& q = p.queries[l];
    if (!wants_q) continue;
    KVB_CHECK(q.defined(), "method '{}' needs post-RoPE queries, but {} has no layers.{}.queries", method_name,
              source, l);
    KVB_CHECK(q.size(0) == p.info.geometry.q_heads, "{}: layers.{}.queries has {} heads, layer 0 has {}",
              source, l, q.size(0), p.info.geometry.q_heads);
    if (needs.window_queries > 0) {
      const int64_t w = std::min(needs.window_queries, q.size(1));
      kv.window_queries = q.narrow(1, q.size(1) - w, w);
    }
    if (needs.prefill_attention) kv.attention_mass = attention_mass(kv.keys, q);
    if (needs.prefill_summary) {
      KVB_CHECK(q.size(1) == kv.keys.size(1),
                "method '{}' needs all {} prefill queries, but {} holds only the last {} in layers.{}.queries",
                method_name, kv.keys.size(1), source, q.size(1), l);
      kv.summary = method.summarize_prefill(kv, q, p.info);
    }
  }
}

CompressionOutcome compress_all(CompressionMethod& method, const OfflinePrefill& p, double ratio,
                                const std::string& method_name) {
  CompressionOutcome out;
  const int64_t t = p.info.tokens;
  out.uniform = uniform_budget(ratio, t);
  out.budgets = method.layer_budgets(p.layers, p.info, out.uniform);
  KVB_CHECK(out.budgets.size() == p.layers.size(), "method '{}' returned {} layer budgets for {} layers",
            method_name, out.budgets.size(), p.layers.size());
  for (size_t l = 0; l < p.layers.size(); ++l) {
    const auto& kv = p.layers[l];
    const int64_t b = out.budgets[l];
    KVB_CHECK(b >= 1 && b <= t, "method '{}' gave layer {} a budget of {} (T = {})", method_name, l, b, t);
    out.plans.push_back(method.compress(kv, p.info, b));
    validate_plan(out.plans.back(), std::vector<int64_t>(kv.keys.size(0), t), kv.keys.size(2),
                  kv.keys.size(0) * b, fmt::format("method '{}' layer {}", method_name, l));
  }
  return out;
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
