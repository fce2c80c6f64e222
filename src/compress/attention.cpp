#include "compress/attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/softmax_colsum.h"
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
                                 int64_t chunk, ColumnSumKernel kernel) {
  KVB_CHECK(keys.dim() == 3 && queries.dim() == 3 && keys.size(2) == queries.size(2),
            "attention: keys {} and queries {} must be [Hkv, T, D] and [Hq, Tq, D]", shape_str(keys),
            shape_str(queries));
  const int64_t hkv = keys.size(0), t = keys.size(1), d = keys.size(2);
  const int64_t hq = queries.size(0), tq = queries.size(1), first = t - tq;
  KVB_CHECK(hq % hkv == 0, "attention: {} query heads are not a multiple of {} kv heads", hq, hkv);
  KVB_CHECK(tq >= 1 && first >= 0 && n >= 0 && n <= first, "attention_column_sums: {} columns, {} queries, {} keys",
            n, tq, t);
  const int64_t g = hq / hkv;
  // One GEMM per kv head by default. Blocks sized for the L2 cache (1-4 q heads at 8K) were up
  // to 1.35x slower at 8K for the 7B geometry (each block packs the head's keys again) and no
  // faster at 2K: one kernel (softmax) over a group's logits beats chunked exp/max/sum passes.
  chunk = chunk <= 0 ? g : std::clamp<int64_t>(chunk, 1, g);
  const int64_t per_kv = (g + chunk - 1) / chunk;
  // Scaling the small query matrix instead of every logit.
  const at::Tensor q = (queries.to(at::kFloat) / std::sqrt(static_cast<double>(d))).contiguous();
  const at::Tensor k = keys.to(at::kFloat).contiguous();
  auto out = at::empty({hq, n}, q.options());
  const bool fused = q.is_cpu() && kernel == ColumnSumKernel::kAuto && softmax_colsum_available();
  // Keys [n, T) are seen by some queries only: query i (position first + i) sees key n + j iff
  // n + j <= first + i. The fused kernel takes each query's visible length instead of a mask.
  const auto lopts = q.options().dtype(at::kLong);
  const at::Tensor hidden =
      fused ? at::Tensor() : at::arange(n, t, lopts).unsqueeze(0) > at::arange(first, t, lopts).unsqueeze(1);
  for_each_head(hkv * per_kv, keys.device().is_cpu(), [&](int64_t b) {
    const int64_t h = b / per_kv, j0 = (b % per_kv) * chunk, m = std::min(chunk, g - j0);
    at::Tensor logits = at::mm(q.narrow(0, h * g + j0, m).view({m * tq, d}), k[h].t());
    if (fused) {  // query i sees first + i + 1 keys
      at::Tensor dst = out.narrow(0, h * g + j0, m).zero_();
      for (int64_t j = 0; j < m; ++j)
        softmax_colsum(logits.data_ptr<float>() + j * tq * t, tq, t, first + 1, n, dst.data_ptr<float>() + j * n);
      return;
    }
    logits.view({m, tq, t}).narrow(2, n, t - n).masked_fill_(hidden, -std::numeric_limits<float>::infinity());
    const at::Tensor probs = at::_softmax(logits, 1, false);  // not in place: CUDA's kernel was never checked for that
    at::Tensor dst = out.narrow(0, h * g + j0, m);
    at::sum_out(dst, probs.view({m, tq, t}).narrow(2, 0, n), {1});
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
