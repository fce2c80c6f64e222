#include "cache/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

int64_t uniform_budget(double ratio, int64_t tokens) {
  if (!(ratio > 0.0 && ratio <= 1.0))
    throw UsageError(fmt::format("retention ratio must be in (0, 1], got {}", ratio));
  KVB_CHECK(tokens >= 1, "uniform_budget: no prefill tokens");
  const auto b = static_cast<int64_t>(std::llround(ratio * static_cast<double>(tokens)));
  return std::min(tokens, std::max<int64_t>(1, b));
}

std::vector<int64_t> plan_counts(const KeepPlan& plan) {
  const int64_t h = plan.keep.size(0);
  if (!plan.lengths.defined()) return std::vector<int64_t>(h, plan.keep.size(1));
  auto l = plan.lengths.to(at::kLong).contiguous();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + h);
}

namespace {

// First (head, slot) where `bad` [H, K] is true, for error messages.
std::pair<int64_t, int64_t> first_true(const at::Tensor& bad) {
  auto idx = at::nonzero(bad);
  return {idx[0][0].item<int64_t>(), idx[0][1].item<int64_t>()};
}

at::Tensor slot_mask(const std::vector<int64_t>& counts, int64_t width) {
  auto c = at::tensor(counts, at::kLong);
  return at::arange(width, at::kLong).unsqueeze(0) < c.unsqueeze(1);
}

}  // namespace

void validate_plan(const KeepPlan& plan, const std::vector<int64_t>& lengths, int64_t head_dim,
                   int64_t expected_total, const std::string& where) {
  const auto h = static_cast<int64_t>(lengths.size());
  KVB_CHECK(plan.keep.defined(), "{}: keep plan has no 'keep' tensor", where);
  KVB_CHECK(plan.keep.dim() == 2 && plan.keep.size(0) == h,
            "{}: keep must be [kv_heads={}, K], got {}", where, h, shape_str(plan.keep));
  KVB_CHECK(plan.keep.scalar_type() == at::kLong, "{}: keep must be int64, got {}", where,
            dtype_str(plan.keep));
  const int64_t width = plan.keep.size(1);
  if (plan.lengths.defined()) {
    KVB_CHECK(plan.lengths.dim() == 1 && plan.lengths.size(0) == h,
              "{}: lengths must be [kv_heads={}], got {}", where, h, shape_str(plan.lengths));
    KVB_CHECK(plan.lengths.scalar_type() == at::kLong, "{}: lengths must be int64", where);
  }
  const auto counts = plan_counts(plan);
  for (int64_t i = 0; i < h; ++i)
    KVB_CHECK(counts[i] >= 0 && counts[i] <= width && counts[i] <= lengths[i],
              "{}: head {} keeps {} tokens, but the plan has {} slots and the head holds {}",
              where, i, counts[i], width, lengths[i]);
  if (expected_total >= 0) {
    const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
    KVB_CHECK(total == expected_total, "{}: plan keeps {} tokens over {} heads, budget is {}",
              where, total, h, expected_total);
  }
  auto keep = plan.keep.cpu();
  auto valid = slot_mask(counts, width);
  auto limit = at::tensor(lengths, at::kLong).unsqueeze(1);
  auto out_of_range = valid & ((keep < 0) | (keep >= limit));
  if (out_of_range.any().item<bool>()) {
    auto [r, c] = first_true(out_of_range);
    KVB_FAIL("{}: head {} slot {} keeps index {}, outside [0, {})", where, r, c,
             keep[r][c].item<int64_t>(), lengths[r]);
  }
  if (width > 1) {
    auto both = valid.narrow(1, 1, width - 1);
    auto not_ascending = both & (keep.narrow(1, 1, width - 1) <= keep.narrow(1, 0, width - 1));
    if (not_ascending.any().item<bool>()) {
      auto [r, c] = first_true(not_ascending);
      KVB_FAIL("{}: head {} indices not strictly ascending at slot {} ({} after {})", where, r,
               c + 1, keep[r][c + 1].item<int64_t>(), keep[r][c].item<int64_t>());
    }
  }
  for (const auto* rep : {&plan.keys, &plan.values}) {
    if (!rep->defined()) continue;
    KVB_CHECK(rep->dim() == 3 && rep->size(0) == h && rep->size(1) == width && rep->size(2) == head_dim,
              "{}: replacement {} must be [{}, {}, {}], got {}", where,
              rep == &plan.keys ? "keys" : "values", h, width, head_dim, rep->sizes());
  }
}

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
  auto valid = slot_mask(counts, lmax).to(l.k.device());
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
  return slot_mask(l.len, lmax).to(l.k.device());
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
