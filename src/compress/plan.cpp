#include "compress/plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

at::Tensor count_mask(const std::vector<int64_t>& counts, int64_t width) {
  auto c = at::tensor(counts, at::kLong);
  return at::arange(width, at::kLong).unsqueeze(0) < c.unsqueeze(1);
}

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
  auto valid = count_mask(counts, width);
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

CompressionOutcome compression_step(CompressionMethod& method, const std::vector<LayerKV>& layers,
                                    const PrefillInfo& info, double ratio, const std::string& method_name) {
  const std::string who = method_name.empty() ? std::string("compression method") : "method '" + method_name + "'";
  CompressionOutcome out;
  const int64_t t = info.tokens;
  out.uniform = uniform_budget(ratio, t);
  out.budgets = method.layer_budgets(layers, info, out.uniform);
  KVB_CHECK(out.budgets.size() == layers.size(), "{} returned {} layer budgets for {} layers", who,
            out.budgets.size(), layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto& kv = layers[l];
    KVB_CHECK(out.budgets[l] >= 1, "{} gave layer {} a budget of {} (T = {})", who, l, out.budgets[l], t);
    // A split of L * B that favours some layers can, near rho = 1, give a layer more than the
    // prompt holds (the in-tree methods cap themselves; a new one need not, and `full` asks for
    // T). A layer cannot keep more than it holds, so such a budget means "keep all": clamped here,
    // so generation and `kvbench compress` agree instead of one clamping and one rejecting.
    out.budgets[l] = std::min(out.budgets[l], t);
    const int64_t b = out.budgets[l];
    out.plans.push_back(method.compress(kv, info, b));
    // The heads together keep B_l each (AdaKV moves slots between heads, not the total).
    validate_plan(out.plans.back(), std::vector<int64_t>(kv.keys.size(0), t), kv.keys.size(2), kv.keys.size(0) * b,
                  fmt::format("{} layer {}", who, l));
  }
  return out;
}

}  // namespace kvb
