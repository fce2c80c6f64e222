#include "compress/attention.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

at::Tensor attention_probs(const at::Tensor& keys, const at::Tensor& queries, int64_t first) {
  KVB_CHECK(keys.dim() == 3 && queries.dim() == 3 && keys.size(2) == queries.size(2),
            "attention: keys {} and queries {} must be [Hkv, T, D] and [Hq, Tq, D]", shape_str(keys),
            shape_str(queries));
  const int64_t hkv = keys.size(0), t = keys.size(1), d = keys.size(2);
  const int64_t hq = queries.size(0), tq = queries.size(1);
  KVB_CHECK(hq % hkv == 0, "attention: {} query heads are not a multiple of {} kv heads", hq, hkv);
  if (first < 0) first = t - tq;
  KVB_CHECK(first >= 0 && first + tq <= t, "attention: queries at [{}, {}) outside {} keys", first,
            first + tq, t);
  const int64_t g = hq / hkv;
  // Grouping the q heads of one kv head into one matrix avoids materialising repeated keys.
  auto q = queries.to(at::kFloat).reshape({hkv, g * tq, d});
  auto k = keys.to(at::kFloat);
  auto logits = at::bmm(q, k.transpose(1, 2)).mul_(1.0 / std::sqrt(static_cast<double>(d)));
  logits = logits.view({hq, tq, t});
  auto pos = at::arange(first, first + tq, keys.options().dtype(at::kLong)).unsqueeze(1);
  auto col = at::arange(t, keys.options().dtype(at::kLong)).unsqueeze(0);
  logits.masked_fill_((col > pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
  return at::softmax(logits, -1);
}

at::Tensor attention_mass(const at::Tensor& keys, const at::Tensor& queries, int64_t first,
                          int64_t chunk) {
  const int64_t t = keys.size(1), tq = queries.size(1);
  if (first < 0) first = t - tq;
  KVB_CHECK(chunk >= 1, "attention_mass: chunk must be >= 1");
  auto mass = at::zeros({queries.size(0), t}, keys.options().dtype(at::kFloat));
  for (int64_t s = 0; s < tq; s += chunk) {
    const int64_t n = std::min(chunk, tq - s);
    mass += attention_probs(keys, queries.narrow(1, s, n), first + s).sum(1);
  }
  return mass;
}

void for_each_head(int64_t heads, bool cpu, const std::function<void(int64_t)>& fn) {
  if (!cpu) {
    for (int64_t h = 0; h < heads; ++h) fn(h);
    return;
  }
  at::parallel_for(0, heads, 1, [&](int64_t b, int64_t e) {
    for (int64_t h = b; h < e; ++h) fn(h);
  });
}

at::Tensor attention_column_sums(const at::Tensor& keys, const at::Tensor& queries, int64_t n,
                                 int64_t chunk) {
  KVB_CHECK(keys.dim() == 3 && queries.dim() == 3 && keys.size(2) == queries.size(2),
            "attention: keys {} and queries {} must be [Hkv, T, D] and [Hq, Tq, D]", shape_str(keys),
            shape_str(queries));
  const int64_t hkv = keys.size(0), t = keys.size(1), d = keys.size(2);
  const int64_t hq = queries.size(0), tq = queries.size(1), first = t - tq;
  KVB_CHECK(hq % hkv == 0, "attention: {} query heads are not a multiple of {} kv heads", hq, hkv);
  KVB_CHECK(tq >= 1 && first >= 0 && n >= 0 && n <= first, "attention_column_sums: {} columns, {} queries, {} keys",
            n, tq, t);
  const int64_t g = hq / hkv, rows = g * tq;
  if (chunk <= 0) chunk = std::max<int64_t>(64, (int64_t(1) << 18) / rows);  // ~1 MB of logits
  // Scaling the small query matrix instead of every logit.
  const at::Tensor q = (queries.to(at::kFloat) / std::sqrt(static_cast<double>(d))).reshape({hkv, rows, d}).contiguous();
  const at::Tensor k = keys.to(at::kFloat).contiguous();
  const auto fopts = q.options();
  auto out = at::empty({hq, n}, fopts);
  // Keys [n, T) are seen by some queries only: query i (position first + i) sees key n + j iff
  // n + j <= first + i.
  const auto lopts = fopts.dtype(at::kLong);
  const at::Tensor hidden = (at::arange(n, t, lopts).unsqueeze(0) > at::arange(first, t, lopts).unsqueeze(1))
                                .unsqueeze(0).expand({g, tq, t - n}).reshape({rows, t - n});
  const int64_t chunks = (n + chunk - 1) / chunk;
  for_each_head(hkv, keys.device().is_cpu(), [&](int64_t h) {
    const at::Tensor qh = q[h], kh = k[h];
    at::Tensor exps = at::empty({rows * n}, fopts);        // exp(logit - chunk max), chunk by chunk
    at::Tensor maxes = at::empty({chunks + 1, rows}, fopts), sums = at::empty({chunks + 1, rows}, fopts);
    auto soften = [&](at::Tensor e, int64_t c) {  // e: logits -> exp(logits - row max), in place
      at::Tensor m = e.amax(1, true);
      e.sub_(m).exp_();
      maxes[c].copy_(m.squeeze(1));
      sums[c].copy_(e.sum(1));
    };
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t c0 = c * chunk, len = std::min(chunk, n - c0);
      at::Tensor e = exps.narrow(0, rows * c0, rows * len).view({rows, len});
      at::mm_out(e, qh, kh.narrow(0, c0, len).t());
      soften(e, c);
    }
    soften(at::mm(qh, kh.narrow(0, n, t - n).t()).masked_fill_(hidden, -std::numeric_limits<float>::infinity()),
           chunks);
    // Row normaliser over all chunks, then each chunk's share: w = exp(m_c - M) / Z.
    const at::Tensor top = std::get<0>(maxes.max(0, true));
    const at::Tensor scale = (maxes - top).exp_();
    const at::Tensor weights = scale.div_((scale * sums).sum(0, true));
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t c0 = c * chunk, len = std::min(chunk, n - c0);
      const at::Tensor e = exps.narrow(0, rows * c0, rows * len).view({g, tq, len});
      out.narrow(0, h * g, g).narrow(1, c0, len).copy_(at::bmm(weights[c].view({g, 1, tq}), e).squeeze(1));
    }
  });
  return out;
}

at::Tensor kv_head_mean(const at::Tensor& per_q_head, int64_t kv_heads) {
  const int64_t hq = per_q_head.size(0);
  KVB_CHECK(kv_heads >= 1 && hq % kv_heads == 0, "kv_head_mean: {} q heads, {} kv heads", hq,
            kv_heads);
  auto sizes = per_q_head.sizes().vec();
  sizes[0] = hq / kv_heads;
  sizes.insert(sizes.begin(), kv_heads);
  return per_q_head.reshape(sizes).mean(1);
}

}  // namespace kvb
