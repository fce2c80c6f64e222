#pragma once
// Inputs shared by the LOOK-M / MEDA / MixKV parity tests: one random layer with text, image and
// video spans, its dense attention (the reference, computed the textbook way), and comparison
// helpers that print the first mismatches.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "compress/method.h"
#include "compress/plan.h"  // uniform_budget
#include "core/registry.h"

namespace kvb::test {

struct MmLayer {
  PrefillInfo info;
  LayerKV layer;
  at::Tensor queries;  // [Hq, T, D], all prefill queries
};

// Text/image/video layout: T = 37 -> text 5, image 20, text 12; other T -> text, image, text,
// video, text in fixed proportions. Always both modalities.
inline at::Tensor mm_modality(int64_t t) {
  at::Tensor m = at::zeros({t}, at::kByte);
  if (t == 37) {
    m.slice(0, 5, 25).fill_(1);
  } else {
    m.slice(0, t / 50, (t * 2) / 5).fill_(1);
    m.slice(0, (t * 9) / 20, (t * 17) / 20).fill_(2);
  }
  return m;
}

// Dense causal attention probabilities of all T queries, [Hq, T, T] (q head j -> kv head j/G).
inline at::Tensor dense_attention(const at::Tensor& q, const at::Tensor& k) {
  const int64_t g = q.size(0) / k.size(0), t = k.size(1);
  at::Tensor s = at::matmul(q.to(at::kDouble), k.to(at::kDouble).repeat_interleave(g, 0).transpose(1, 2)) /
                 std::sqrt(static_cast<double>(k.size(2)));
  s = s.masked_fill(at::ones({t, t}, at::kBool).triu(1), -INFINITY);
  return s.softmax(-1);
}

inline MmLayer make_mm_layer(int64_t t, int64_t hq, int64_t hkv, int64_t d, uint64_t seed, int64_t window = 0) {
  at::manual_seed(seed);
  MmLayer m;
  m.info.geometry = {1, hq, hkv, d};
  m.info.tokens = t;
  m.info.modality = mm_modality(t);
  m.layer.keys = at::randn({hkv, t, d}) * 1.5 + at::randn({hkv, 1, d});  // shared offset: similar keys
  m.layer.values = at::randn({hkv, t, d});
  m.queries = at::randn({hq, t, d});
  m.layer.attention_mass = dense_attention(m.queries, m.layer.keys).sum(1).to(at::kFloat);
  if (window > 0) m.layer.window_queries = m.queries.slice(1, t - std::min(window, t)).contiguous();
  return m;
}

inline std::unique_ptr<CompressionMethod> make_method(const std::string& name, const nlohmann::json& cfg) {
  return Registry<CompressionMethod>::instance().create(name, cfg);
}

// Kept rows of a plan, with `lengths` applied.
inline std::vector<at::Tensor> plan_rows(const KeepPlan& p) {
  std::vector<at::Tensor> rows;
  for (int64_t h = 0; h < p.keep.size(0); ++h)
    rows.push_back(p.lengths.defined() ? p.keep[h].slice(0, 0, p.lengths[h].item<int64_t>()) : p.keep[h]);
  return rows;
}

inline ::testing::AssertionResult same_indices(const at::Tensor& got, const at::Tensor& want) {
  if (got.sizes() != want.sizes())
    return ::testing::AssertionFailure() << "shape " << got.sizes() << " vs reference " << want.sizes();
  const at::Tensor g = got.reshape({-1}).to(at::kLong), w = want.reshape({-1}).to(at::kLong);
  const at::Tensor bad = g.ne(w).nonzero().squeeze(1);
  if (bad.numel() == 0) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os << bad.numel() << " index mismatches (flat position: got/want):";
  for (int64_t i = 0; i < std::min<int64_t>(8, bad.numel()); ++i) {
    const int64_t p = bad[i].item<int64_t>();
    os << " " << p << ": " << g[p].item<int64_t>() << "/" << w[p].item<int64_t>();
  }
  return ::testing::AssertionFailure() << os.str();
}

inline ::testing::AssertionResult close_to(const at::Tensor& got, const at::Tensor& want, double tol = 1e-5) {
  if (!got.defined() || got.sizes() != want.sizes())
    return ::testing::AssertionFailure() << "shape mismatch against reference " << want.sizes();
  const at::Tensor diff = (got.to(at::kDouble) - want.to(at::kDouble)).abs().reshape({-1});
  const double max_diff = diff.max().item<double>();
  if (max_diff <= tol) return ::testing::AssertionSuccess();
  const at::Tensor bad = diff.gt(tol).nonzero().squeeze(1);
  const at::Tensor g = got.to(at::kDouble).reshape({-1}), w = want.to(at::kDouble).reshape({-1});
  std::ostringstream os;
  os << bad.numel() << " values differ by > " << tol << ", max diff " << max_diff << "; first (flat: got/want):";
  for (int64_t i = 0; i < std::min<int64_t>(4, bad.numel()); ++i) {
    const int64_t p = bad[i].item<int64_t>();
    os << " " << p << ": " << g[p].item<double>() << "/" << w[p].item<double>();
  }
  return ::testing::AssertionFailure() << os.str();
}

}  // namespace kvb::test
