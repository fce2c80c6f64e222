#include "engine/attention.h"

#include <torch/version.h>

#include <cmath>
#include <limits>

#include "core/error.h"

namespace kvb {

at::Tensor causal_mask(int64_t offset, int64_t n, int64_t keys, const at::Device& device) {
  const auto o = at::TensorOptions().dtype(at::kLong).device(device);
  return at::arange(keys, o).unsqueeze(0) <= (at::arange(n, o) + offset).unsqueeze(1);
}

namespace {

// One block of kv heads: q [h, G*n, D] (rows ordered group-major), k/v [h, L, D],
// allowed [h or 1, G*n, L] or undefined.
at::Tensor attend_block(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed,
                        at::Tensor* mass_rows) {
#if TORCH_VERSION_MAJOR >= 2
  if (!mass_rows) return at::scaled_dot_product_attention(q, k, v, allowed.defined() ? c10::optional<at::Tensor>(allowed) : c10::nullopt, 0.0, false);
#endif
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor s = at::matmul(q, k.transpose(1, 2)).to(at::kFloat).mul_(scale);
  if (allowed.defined()) s.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  const at::Tensor p = at::softmax(s, -1);
  if (mass_rows) *mass_rows = p;
  return at::matmul(p.to(v.scalar_type()), v);
}

}  // namespace

at::Tensor gqa_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed,
                         at::Tensor* mass) {
  const int64_t hq = q.size(0), n = q.size(1), d = q.size(2), hkv = k.size(0), L = k.size(1);
  KVB_CHECK(hq % hkv == 0 && v.size(0) == hkv && v.size(1) == L && k.size(2) == d,
            "attention: q [{}, {}, {}] does not fit k [{}, {}, {}]", hq, n, d, hkv, L, k.size(2));
  const int64_t g = hq / hkv;
  const at::Tensor qg = q.reshape({hkv, g * n, d});
  at::Tensor mask;  // [hkv or 1, g*n, L]
  if (allowed.defined()) {
    const at::Tensor a = allowed.dim() == 2 ? allowed.unsqueeze(0) : allowed;  // [h, n, L]
    mask = a.unsqueeze(1).expand({a.size(0), g, n, L}).reshape({a.size(0), g * n, L});
  }
  // Bound the float32 score matrix (chunked prefill at 8K+ tokens): one kv head at a time.
  const bool per_head = hkv > 1 && static_cast<double>(hq) * n * L > (1 << 25);
  at::Tensor out;
  if (!per_head) {
    at::Tensor p;
    out = attend_block(qg, k, v, mask, mass ? &p : nullptr);
    if (mass) mass->add_(p.view({hq, n, L}).sum(1));
  } else {
    out = at::empty({hkv, g * n, d}, q.options());
    for (int64_t h = 0; h < hkv; ++h) {
      const at::Tensor mh = mask.defined() ? (mask.size(0) == 1 ? mask : mask.narrow(0, h, 1)) : mask;
      at::Tensor p;
      out.narrow(0, h, 1).copy_(attend_block(qg.narrow(0, h, 1), k.narrow(0, h, 1), v.narrow(0, h, 1), mh,
                                             mass ? &p : nullptr));
      if (mass) mass->narrow(0, h * g, g).add_(p.view({g, n, L}).sum(1));
    }
  }
  // [hkv, g*n, d] -> [hq, n, d] -> [n, hq*d]
  return out.view({hq, n, d}).transpose(0, 1).reshape({n, hq * d});
}

}  // namespace kvb
