#pragma once
// Helpers for the reference tests: double-precision copies of tensors, plan rows as vectors,
// and comparisons that print the first mismatches and the max difference.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <vector>

#include "compress/method.h"
#include "compress/plan.h"

namespace kvb::ref {

using Vec = std::vector<double>;

// t[h][i][j] of a 3-D tensor as nested vectors (double).
inline std::vector<std::vector<Vec>> to3(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  std::vector<std::vector<Vec>> out(c.size(0), std::vector<Vec>(c.size(1), Vec(c.size(2))));
  for (int64_t a = 0; a < c.size(0); ++a)
    for (int64_t b = 0; b < c.size(1); ++b)
      for (int64_t d = 0; d < c.size(2); ++d) out[a][b][d] = p[(a * c.size(1) + b) * c.size(2) + d];
  return out;
}

inline std::vector<std::vector<int64_t>> plan_rows(const KeepPlan& plan) {
  auto counts = plan_counts(plan);
  auto k = plan.keep.contiguous();
  std::vector<std::vector<int64_t>> out;
  for (int64_t h = 0; h < k.size(0); ++h) {
    std::vector<int64_t> row(counts[h]);
    for (int64_t j = 0; j < counts[h]; ++j) row[j] = k[h][j].item<int64_t>();
    out.push_back(row);
  }
  return out;
}

// Indices of the k largest values of s among [0, n), ascending (ties to the lower index).
inline std::vector<int64_t> top_k(const Vec& s, int64_t n, int64_t k) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

inline ::testing::AssertionResult same_rows(const std::vector<std::vector<int64_t>>& got,
                                            const std::vector<std::vector<int64_t>>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " heads, expected " << want.size();
  std::ostringstream msg;
  int shown = 0;
  for (size_t h = 0; h < got.size(); ++h) {
    if (got[h].size() != want[h].size()) {
      msg << " head " << h << ": " << got[h].size() << " kept, expected " << want[h].size() << ";";
      ++shown;
    }
    for (size_t j = 0; j < std::min(got[h].size(), want[h].size()) && shown < 5; ++j)
      if (got[h][j] != want[h][j]) {
        msg << " head " << h << " slot " << j << ": " << got[h][j] << " vs " << want[h][j] << ";";
        ++shown;
        break;
      }
  }
  if (shown == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "first mismatches:" << msg.str();
}

// |got - want| <= atol + rtol |want| elementwise; prints the first mismatches and the max diff.
inline ::testing::AssertionResult close(const Vec& got, const Vec& want, double rtol, double atol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  double maxd = 0;
  std::ostringstream msg;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(got[i] - want[i]);
    maxd = std::max(maxd, d);
    if (d > atol + rtol * std::abs(want[i]) && bad++ < 5) msg << " [" << i << "] " << got[i] << " vs " << want[i] << ";";
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " mismatches, max diff " << maxd << ", first:" << msg.str();
}

inline Vec flat(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous();
  return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace kvb::ref
