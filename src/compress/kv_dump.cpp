#include "compress/kv_dump.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "compress/modality.h"
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
  std::set<std::string> read = {"modality", "input_ids"};  // every name looked up is an expected tensor
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
    if (st.has(name(l, "attention_mass"))) {
      kv.attention_mass = finite(st.get(name(l, "attention_mass"), at::kFloat), path, name(l, "attention_mass"));
      KVB_CHECK(kv.attention_mass.dim() == 2 && kv.attention_mass.size(1) == kv.keys.size(1) &&
                    kv.attention_mass.size(0) % kv.keys.size(0) == 0 && kv.attention_mass.size(0) >= 1,
                "{}: {} is {}; expected [Hq, {}] with Hq a positive multiple of {}", path, name(l, "attention_mass"),
                shape_str(kv.attention_mass), kv.keys.size(1), kv.keys.size(0));
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
  if (st.has("input_ids")) p.input_ids = st.get("input_ids", at::kLong);
  return p;
}

void write_kv_file(const std::string& path, const PrefillInfo& info, const std::vector<LayerKV>& layers,
                   const at::Tensor& input_ids, std::map<std::string, std::string> metadata) {
  std::vector<std::pair<std::string, at::Tensor>> t;
  for (const auto& l : layers) {
    const std::string p = fmt::format("layers.{}.", l.layer);
    t.emplace_back(p + "keys", l.keys.to(at::kFloat).cpu());
    t.emplace_back(p + "values", l.values.to(at::kFloat).cpu());
    if (l.window_queries.defined()) t.emplace_back(p + "queries", l.window_queries.to(at::kFloat).cpu());
    if (l.attention_mass.defined()) t.emplace_back(p + "attention_mass", l.attention_mass.to(at::kFloat).cpu());
  }
  if (info.modality.defined()) t.emplace_back("modality", info.modality.to(at::kByte).cpu());
  if (input_ids.defined()) t.emplace_back("input_ids", input_ids.to(at::kLong).cpu());
  nlohmann::json spans = nlohmann::json::array();
  for (const auto& s : info.media) spans.push_back({s.begin, s.end, s.modality});
  const auto& g = info.geometry;
  metadata["tokens"] = std::to_string(info.tokens);
  metadata["geometry"] =
      nlohmann::json{{"layers", g.layers}, {"q_heads", g.q_heads}, {"kv_heads", g.kv_heads}, {"head_dim", g.head_dim}}
          .dump();
  metadata["media"] = spans.dump();
  write_safetensors(path, t, metadata);
}

}  // namespace kvb
