#include "cache/kv_cache.h"

#include <algorithm>
#include <numeric>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

KvCache::KvCache(int64_t layers) {
  KVB_CHECK(layers >= 1, "KvCache needs at least one layer, got {}", layers);
  layers_.resize(static_cast<size_t>(layers));
}

KvCache::Layer& KvCache::at_layer(int64_t layer, const char* what) {
  return const_cast<Layer&>(static_cast<const KvCache*>(this)->at_layer(layer, what));
}

const KvCache::Layer& KvCache::at_layer(int64_t layer, const char* what) const {
  KVB_CHECK(layer >= 0 && layer < layers(), "KvCache::{}: layer {} out of range [0, {})", what,
            layer, layers());
  const auto& l = layers_[static_cast<size_t>(layer)];
  KVB_CHECK(l.filled || std::string(what) == "set_prefill", "KvCache::{}: layer {} has no prefill",
            what, layer);
  return l;
}

void KvCache::set_prefill(int64_t layer, at::Tensor keys, at::Tensor values) {
  auto& l = at_layer(layer, "set_prefill");
  KVB_CHECK(keys.dim() == 3 && keys.sizes() == values.sizes(),
            "KvCache::set_prefill layer {}: keys {} and values {} must both be [Hkv, T, D]", layer,
            shape_str(keys), shape_str(values));
  KVB_CHECK(keys.scalar_type() == values.scalar_type(),
            "KvCache::set_prefill layer {}: keys and values differ in dtype", layer);
  l.k = keys.contiguous();
  l.v = values.contiguous();
  l.len.assign(static_cast<size_t>(keys.size(0)), keys.size(1));
  l.position = keys.size(1);
  l.filled = true;
}

void KvCache::apply(int64_t layer, const KeepPlan& plan) { apply(layer, plan, -1); }

void KvCache::apply(int64_t layer, const KeepPlan& plan, int64_t expected_total) {
  auto& l = at_layer(layer, "apply");
  const int64_t d = l.k.size(2);
  validate_plan(plan, l.len, d, expected_total, fmt::format("KvCache::apply layer {}", layer));
  const auto counts = plan_counts(plan);
  const int64_t lmax = *std::max_element(counts.begin(), counts.end());
  auto valid = count_mask(counts, lmax).to(l.k.device());
  auto idx = plan.keep.narrow(1, 0, lmax).to(l.k.device()).masked_fill(~valid, 0);
  auto gidx = idx.unsqueeze(-1).expand({idx.size(0), lmax, d});
  auto pick = [&](const at::Tensor& store, const at::Tensor& rep) {
    auto out = rep.defined() ? rep.narrow(1, 0, lmax).to(store.device(), store.scalar_type()).clone()
                             : store.gather(1, gidx);
    return out.masked_fill_(~valid.unsqueeze(-1), 0).contiguous();
  };
  l.k = pick(l.k, plan.keys);
  l.v = pick(l.v, plan.values);
  l.len = counts;
}

void KvCache::reserve(Layer& l, int64_t capacity) {
  if (capacity <= l.k.size(1)) return;
  const int64_t grown = std::max(capacity, l.k.size(1) * 2);
  auto widen = [&](const at::Tensor& t) {
    auto out = at::zeros({t.size(0), grown, t.size(2)}, t.options());
    out.narrow(1, 0, t.size(1)).copy_(t);
    return out;
  };
  l.k = widen(l.k);
  l.v = widen(l.v);
}

void KvCache::append(int64_t layer, const at::Tensor& keys, const at::Tensor& values) {
  auto& l = at_layer(layer, "append");
  const int64_t h = l.k.size(0), d = l.k.size(2);
  KVB_CHECK(keys.dim() == 3 && keys.size(0) == h && keys.size(2) == d && keys.sizes() == values.sizes(),
            "KvCache::append layer {}: keys {} / values {} must be [{}, n, {}]", layer,
            shape_str(keys), shape_str(values), h, d);
  const int64_t n = keys.size(1);
  const int64_t lmax = max_length(layer);
  const bool uniform = std::all_of(l.len.begin(), l.len.end(), [&](int64_t x) { return x == lmax; });
  reserve(l, lmax + n);
  if (uniform) {
    l.k.narrow(1, lmax, n).copy_(keys);
    l.v.narrow(1, lmax, n).copy_(values);
  } else {
    for (int64_t i = 0; i < h; ++i) {
      l.k[i].narrow(0, l.len[i], n).copy_(keys[i]);
      l.v[i].narrow(0, l.len[i], n).copy_(values[i]);
    }
  }
  for (auto& x : l.len) x += n;
  l.position += n;
}

int64_t KvCache::max_length(int64_t layer) const {
  const auto& l = at_layer(layer, "max_length");
  return *std::max_element(l.len.begin(), l.len.end());
}

at::Tensor KvCache::keys(int64_t layer) const {
  return at_layer(layer, "keys").k.narrow(1, 0, max_length(layer));
}

at::Tensor KvCache::values(int64_t layer) const {
  return at_layer(layer, "values").v.narrow(1, 0, max_length(layer));
}

at::Tensor KvCache::valid_mask(int64_t layer) const {
  const auto& l = at_layer(layer, "valid_mask");
  const int64_t lmax = max_length(layer);
  if (std::all_of(l.len.begin(), l.len.end(), [&](int64_t x) { return x == lmax; })) return {};
  return count_mask(l.len, lmax).to(l.k.device());
}

std::vector<int64_t> KvCache::lengths(int64_t layer) const { return at_layer(layer, "lengths").len; }

int64_t KvCache::next_position(int64_t layer) const { return at_layer(layer, "next_position").position; }

int64_t KvCache::kept_tokens() const {
  int64_t n = 0;
  for (const auto& l : layers_)
    if (l.filled) n += std::accumulate(l.len.begin(), l.len.end(), int64_t{0});
  return n;
}

int64_t KvCache::bytes() const {
  int64_t b = 0;
  for (const auto& l : layers_)
    if (l.filled)
      b += std::accumulate(l.len.begin(), l.len.end(), int64_t{0}) * l.k.size(2) * 2 *
           static_cast<int64_t>(l.k.element_size());
  return b;
}

}  // namespace kvb
