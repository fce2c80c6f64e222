#pragma once
// Building keep plans from scores: pooling, sorted top-k, recent windows, ragged rows, and
// integer budget splitting. Shared by every scoring method (methods/ and multimodal ones).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

// 1-D pooling of [H, N] scores with `kernel`, stride 1, padding kernel / 2, output length N:
// "avg" counts the zero padding (torch avg_pool1d default), "max" ignores it.
at::Tensor pool_scores(const at::Tensor& scores, int64_t kernel, const std::string& pooling);

// [H, k] indices of the k largest entries of each row of [H, N] scores, ascending; among equal
// scores the lower index wins.
at::Tensor top_sorted(const at::Tensor& scores, int64_t k);

// Every head keeps the last `count` of `tokens`.
KeepPlan keep_last(int64_t heads, int64_t tokens, int64_t count);

// Every head keeps the last `recent` tokens plus the top (budget - recent) of `scores` [H, >=T-recent]
// over [0, T - recent); when budget <= recent, just the last `budget` tokens.
KeepPlan keep_top_and_recent(const at::Tensor& scores, int64_t tokens, int64_t budget, int64_t recent);

// The same ascending index row [K] for every one of `heads` heads.
KeepPlan same_for_all_heads(const at::Tensor& row, int64_t heads);

// AdaKV's allocation of H * sel slots over the heads of [H, N] scores: each head first gets its
// floor(floor_alpha * sel) best candidates, the remaining slots go to the best of all heads
// together. Returns each head's chosen candidate positions, ascending (the counts differ).
std::vector<at::Tensor> adakv_rows(const at::Tensor& scores, int64_t sel, double floor_alpha);

// Rows of different lengths (each ascending int64) -> padded keep [H, max] + lengths.
KeepPlan ragged_plan(const std::vector<at::Tensor>& rows);

// Integers summing to `total` proportional to `shares` (>= 0, summing to `total` up to
// rounding): floors, then +1 to the largest fractional parts (ties to the lower index).
std::vector<int64_t> largest_remainder(const std::vector<double>& shares, int64_t total);

}  // namespace kvb
