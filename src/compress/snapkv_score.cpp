#include "compress/snapkv_score.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <limits>

#include "compress/attention.h"
#include "compress/selection.h"
#include "compress/config_checks.h"
#include "compress/tensor_fmt.h"
#include "core/config.h"
#include "core/error.h"

namespace kvb {

void SnapConfig::read(ConfigReader& r) {
  get_at_least(r, "window", window, 1);
  get_at_least(r, "kernel", kernel, 1);
  r.get_choice("pooling", pooling, {"avg", "max"});
}

nlohmann::json SnapConfig::to_json() const {
  return {{"window", window}, {"kernel", kernel}, {"pooling", pooling}};
}

int64_t SnapConfig::effective_window(const LayerKV& layer, const std::string& method) const {
  KVB_CHECK(layer.window_queries.defined(), "method '{}' needs window queries, layer {} has none",
            method, layer.layer);
  return std::min({window, layer.window_queries.size(1), layer.keys.size(1)});
}

Needs SnapConfig::needs() const {
  Needs n;
  n.window_queries = window;
  return n;
}

std::vector<int64_t> SnapConfig::pyramid_layer_budgets(const std::vector<LayerKV>& layers, int64_t uniform,
                                                       int64_t beta, const std::string& method) const {
  if (layers.empty()) return {};
  const int64_t w = effective_window(layers[0], method);
  return pyramid_budgets(static_cast<int64_t>(layers.size()), layers[0].keys.size(1), w, uniform, beta);
}

namespace {

// Reused buffers (per thread, CPU only) so each layer does not page-fault fresh ~30 MB tensors.
at::Tensor scratch(int slot, at::IntArrayRef sizes, const at::TensorOptions& opts) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  if (!opts.device().is_cpu()) return at::empty(sizes, opts);
  thread_local at::Tensor buf[2];
  auto& b = buf[slot];
  if (!b.defined() || b.numel() < n) b = at::empty({n}, opts);
  return b.narrow(0, 0, n).view(sizes);
}

// [Hq, T - W] column sums of the window's attention probabilities, for a window of W <= 4096
// queries: the logits of every kv head's G*W grouped queries against all T keys in one batched
// GEMM (the window-attention GEMM itself, BLAS-threaded at the top level rather than one small
// GEMM per head inside a parallel region), a causal mask on the last W columns, ATen's fused
// row softmax (each row stays in cache for its max, exp and sum), and one reduction over the W
// queries of each q head. Kv heads are taken a group at a time so the logits stay under ~64 MB.
at::Tensor window_column_sums(const at::Tensor& keys, const at::Tensor& queries) {
  const int64_t hkv = keys.size(0), t = keys.size(1), d = keys.size(2);
  const int64_t hq = queries.size(0), w = queries.size(1), n = t - w;
  KVB_CHECK(hq % hkv == 0 && w >= 1 && n >= 0 && queries.size(2) == d,
            "snapkv: queries {} and keys {} do not fit", shape_str(queries), shape_str(keys));
  const int64_t g = hq / hkv, rows = g * w;
  const at::Tensor q = (queries.to(at::kFloat) * (1.0 / std::sqrt(static_cast<double>(d)))).reshape({hkv, rows, d});
  const at::Tensor k = keys.to(at::kFloat);
  const auto fopts = q.options();
  at::Tensor out = at::empty({hq, n}, fopts);
  const at::Tensor hidden = at::ones({w, w}, fopts.dtype(at::kBool)).triu(1);  // query i sees window key j <= i
  const int64_t per = std::clamp<int64_t>((int64_t(64) << 20) / std::max<int64_t>(1, rows * t * 4), 1, hkv);
  for (int64_t h0 = 0; h0 < hkv; h0 += per) {
    const int64_t nh = std::min(per, hkv - h0);
    at::Tensor logits = scratch(0, {nh, rows, t}, fopts), probs = scratch(1, {nh, rows, t}, fopts);
    at::bmm_out(logits, q.narrow(0, h0, nh), k.narrow(0, h0, nh).transpose(1, 2));  // [nh, G*W, T]
    logits.view({nh * g, w, t}).narrow(2, n, w).masked_fill_(hidden, -std::numeric_limits<float>::infinity());
    at::_softmax_out(probs, logits, 2, false);
    at::Tensor dst = out.narrow(0, h0 * g, nh * g);
    at::sum_out(dst, probs.view({nh * g, w, t}).narrow(2, 0, n), at::IntArrayRef({1}));
  }
  return out;
}

}  // namespace

at::Tensor snapkv_scores(const LayerKV& layer, const SnapConfig& cfg, int64_t w) {
  const int64_t t = layer.keys.size(1);
  auto q = layer.window_queries.narrow(1, layer.window_queries.size(1) - w, w);
  // [Hq, T - W]; the chunked attention_column_sums keeps memory O(chunk * T) for long query
  // spans, which a window of at most a few thousand queries does not need.
  // KVB_SNAPKV_SCORES=chunked takes the previous path (for A/B timing).
  static const bool chunked = [] {
    const char* e = std::getenv("KVB_SNAPKV_SCORES");
    return e && std::string(e) == "chunked";
  }();
  auto summed = w <= 4096 && !chunked ? window_column_sums(layer.keys, q) : attention_column_sums(layer.keys, q, t - w);
  return kv_head_mean(pool_scores(summed, cfg.kernel, cfg.pooling), layer.keys.size(0));
}

std::vector<int64_t> pyramid_budgets(int64_t layers, int64_t tokens, int64_t window,
                                     int64_t uniform, int64_t beta) {
  KVB_CHECK(beta >= 1, "pyramidkv: beta must be >= 1, got {}", beta);
  const int64_t base = uniform - window;
  if (base <= 0 || layers == 1) return std::vector<int64_t>(layers, uniform);
  int64_t lo = base / beta, hi = 2 * base - lo;
  if (hi >= tokens - window) {
    hi = tokens - window;
    lo = 2 * base - hi;
  }
  std::vector<double> share(layers);
  for (int64_t l = 0; l < layers; ++l)
    share[l] = static_cast<double>(hi) -
               static_cast<double>(l) * static_cast<double>(hi - lo) / static_cast<double>(layers - 1);
  auto out = largest_remainder(share, layers * base);
  for (auto& b : out) b += window;
  return out;
}

}  // namespace kvb
