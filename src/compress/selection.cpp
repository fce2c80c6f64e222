#include "compress/selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

at::Tensor pool_scores(const at::Tensor& scores, int64_t kernel, const std::string& pooling) {
  KVB_CHECK(kernel >= 1, "pooling kernel must be >= 1, got {}", kernel);
  if (pooling != "avg" && pooling != "max")
    throw UsageError(fmt::format("pooling must be 'avg' or 'max', got '{}'", pooling));
  const int64_t n = scores.size(-1);
  if (kernel == 1 || n == 0) return scores;
  // The window's k shifted views summed (or maxed) over the padded row: what avg_pool1d /
  // max_pool1d compute, in k vector passes. ATen 1.13's pool1d (via pool2d) took ~0.6 ms a
  // layer at 2K tokens, as long as SnapKV's whole selection after scoring.
  const bool avg = pooling == "avg";
  const int64_t pad = kernel / 2;
  const at::Tensor padded =
      at::constant_pad_nd(scores, {pad, pad}, avg ? 0.0 : -std::numeric_limits<double>::infinity());
  at::Tensor y = padded.narrow(-1, 0, n).clone();
  for (int64_t o = 1; o < kernel; ++o) {
    const at::Tensor shifted = padded.narrow(-1, o, n);
    if (avg)
      y.add_(shifted);
    else
      y = at::maximum(y, shifted);
  }
  return avg ? y.div_(static_cast<double>(kernel)) : y;  // avg counts the padding: always k terms
}

namespace {

// top_sorted of a float CPU row set: nth_element finds the k-th largest, one scan keeps what is
// above it and the lowest-index ties. The ATen path's six passes (kthvalue, two compares, sum,
// cumsum, nonzero) cost ~0.3 ms a layer at 2K tokens in dispatch and temporaries.
at::Tensor top_sorted_cpu(const at::Tensor& scores_in, int64_t k) {
  const at::Tensor scores = scores_in.contiguous();
  const int64_t h = scores.size(0), n = scores.size(1);
  at::Tensor out = at::empty({h, k}, scores.options().dtype(at::kLong));
  const float* src = scores.data_ptr<float>();
  int64_t* dst = out.data_ptr<int64_t>();
  std::vector<float> buf(static_cast<size_t>(n));
  for (int64_t r = 0; r < h; ++r) {
    const float* row = src + r * n;
    for (int64_t i = 0; i < n; ++i) {
      KVB_CHECK(!std::isnan(row[i]), "top_sorted: the scores of row {} hold a NaN (at {}): nothing can be ranked", r, i);
      buf[static_cast<size_t>(i)] = row[i];
    }
    std::nth_element(buf.begin(), buf.begin() + (n - k), buf.end());
    const float kth = buf[static_cast<size_t>(n - k)];
    int64_t above = 0;
    for (int64_t i = 0; i < n; ++i) above += row[i] > kth;
    int64_t ties = k - above, at = 0;
    for (int64_t i = 0; i < n && at < k; ++i)
      if (row[i] > kth || (row[i] == kth && ties-- > 0)) dst[r * k + at++] = i;
  }
  return out;
}

}  // namespace

at::Tensor top_sorted(const at::Tensor& scores, int64_t k) {
  KVB_CHECK(scores.dim() == 2, "top_sorted: scores must be [H, N], got {}", shape_str(scores));
  const int64_t h = scores.size(0), n = scores.size(1);
  KVB_CHECK(k >= 0 && k <= n, "top_sorted: k={} outside [0, {}]", k, n);
  auto opts = scores.options().dtype(at::kLong);
  if (k == 0) return at::empty({h, 0}, opts);
  if (k == n) return at::arange(n, opts).unsqueeze(0).expand({h, n}).contiguous();
  if (scores.is_cpu() && scores.scalar_type() == at::kFloat) return top_sorted_cpu(scores, k);
  // Everything above the k-th largest value, then the lowest-index ties: deterministic on any
  // device (topk's choice among ties is not), and the mask's nonzero() is already ascending.
  auto kth = std::get<0>(at::kthvalue(scores, n - k + 1, 1, true));
  auto above = scores > kth;
  auto tie = scores == kth;
  auto need = k - above.sum(1, true);
  auto mask = above | (tie & (tie.cumsum(1) <= need));
  const at::Tensor picked = at::nonzero(mask);
  // A NaN compares false with everything, so its row comes up short.
  KVB_CHECK(picked.size(0) == h * k, "top_sorted: the scores hold a NaN: nothing can be ranked");
  return picked.select(1, 1).view({h, k});
}

KeepPlan keep_last(int64_t heads, int64_t tokens, int64_t count) {
  KVB_CHECK(count >= 0 && count <= tokens, "keep_last: {} of {} tokens", count, tokens);
  return same_for_all_heads(at::arange(tokens - count, tokens, at::kLong), heads);
}

KeepPlan keep_top_and_recent(const at::Tensor& scores, int64_t tokens, int64_t budget, int64_t recent) {
  const int64_t h = scores.size(0);
  recent = std::min(recent, tokens);
  if (budget <= recent) return keep_last(h, tokens, budget);
  const int64_t cand = tokens - recent;
  auto top = top_sorted(scores.narrow(1, 0, cand), budget - recent);
  auto tail = at::arange(cand, tokens, top.options()).unsqueeze(0).expand({h, recent});
  return {at::cat({top, tail}, 1), {}, {}, {}};
}

KeepPlan same_for_all_heads(const at::Tensor& row, int64_t heads) {
  return {row.to(at::kLong).unsqueeze(0).expand({heads, row.size(0)}).contiguous(), {}, {}, {}};
}

std::vector<at::Tensor> adakv_rows(const at::Tensor& scores_in, int64_t sel, double floor_alpha) {
  const int64_t h = scores_in.size(0), cand = scores_in.size(1);
  auto scores = scores_in.clone();
  const auto floor_n = static_cast<int64_t>(std::floor(floor_alpha * static_cast<double>(sel)));
  if (floor_n > 0) scores.scatter_(1, top_sorted(scores, floor_n), std::numeric_limits<float>::infinity());
  // Flat indices come back ascending, so each head's positions are already sorted.
  auto flat = top_sorted(scores.reshape({1, -1}), h * sel)[0].cpu();
  auto head = flat.div(cand, "floor"), pos = flat.remainder(cand);
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < h; ++i) rows.push_back(pos.masked_select(head == i));
  return rows;
}

KeepPlan ragged_plan(const std::vector<at::Tensor>& rows) {
  KVB_CHECK(!rows.empty(), "ragged_plan: no rows");
  int64_t width = 0;
  std::vector<int64_t> lens;
  for (const auto& r : rows) {
    lens.push_back(r.size(0));
    width = std::max(width, r.size(0));
  }
  auto keep = at::zeros({static_cast<int64_t>(rows.size()), width}, rows[0].options().dtype(at::kLong));
  for (size_t i = 0; i < rows.size(); ++i)
    keep[static_cast<int64_t>(i)].narrow(0, 0, lens[i]).copy_(rows[i]);
  const bool uniform = std::all_of(lens.begin(), lens.end(), [&](int64_t x) { return x == width; });
  return {keep, uniform ? at::Tensor() : at::tensor(lens, at::kLong), {}, {}};
}

std::vector<int64_t> largest_remainder(const std::vector<double>& shares, int64_t total) {
  std::vector<int64_t> out(shares.size());
  std::vector<std::pair<double, size_t>> frac;
  int64_t sum = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    const double f = std::floor(shares[i] + 1e-9);  // 1e-9: exact integers must not lose a unit
    out[i] = static_cast<int64_t>(f);
    sum += out[i];
    frac.push_back({shares[i] - f, i});
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  int64_t left = total - sum;
  KVB_CHECK(left >= 0 && left <= static_cast<int64_t>(shares.size()),
            "largest_remainder: shares sum far from total {} (floors give {})", total, sum);
  for (size_t j = 0; left > 0; ++j, --left) out[frac[j].second] += 1;
  return out;
}

}  // namespace kvb
