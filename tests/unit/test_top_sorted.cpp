// top_sorted against its definition written out: each row's entries ordered by score (higher
// first) and then by index (lower first), the first k kept, returned ascending. Scores drawn
// from a few values so that ties cross the k-th place in most rows; float rows take the CPU
// scan, double rows the ATen passes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "compress/selection.h"
#include "error_text.h"

namespace kvb {
namespace {

std::vector<int64_t> by_definition(const std::vector<double>& row, int64_t k) {
  std::vector<int64_t> order(row.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
  order.resize(static_cast<size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

void expect_definition(const at::Tensor& scores, int64_t k) {
  const at::Tensor got = top_sorted(scores, k);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{scores.size(0), k}));
  const at::Tensor d = scores.to(at::kDouble).contiguous();
  for (int64_t r = 0; r < scores.size(0); ++r) {
    const std::vector<double> row(d[r].data_ptr<double>(), d[r].data_ptr<double>() + d.size(1));
    const std::vector<int64_t> want = by_definition(row, k);
    const at::Tensor g = got[r].contiguous();
    const std::vector<int64_t> have(g.data_ptr<int64_t>(), g.data_ptr<int64_t>() + k);
    ASSERT_EQ(have, want) << "row " << r << " of " << scores.sizes() << ", k = " << k << ", dtype " << scores.scalar_type();
  }
}

TEST(TopSorted, HigherScoreThenLowerIndexOnCpuScanAndAtenPath) {
  at::manual_seed(37);
  for (const int64_t n : {37, 501}) {
    // Integers 0..6 scaled, plus -inf and +inf entries (AdaKV's floor writes +inf).
    at::Tensor s = at::randint(0, 7, {3, n}, at::kFloat).mul_(0.25);
    s.index_put_({0, 5}, std::numeric_limits<float>::infinity());
    s.index_put_({1, 3}, -std::numeric_limits<float>::infinity());
    for (const int64_t k : {int64_t{1}, int64_t{2}, n / 3, n / 2 + 1, n - 1}) {
      expect_definition(s, k);
      expect_definition(s.to(at::kDouble), k);
      expect_definition(s.t().contiguous().t(), k);  // a non-contiguous view
    }
  }
}

// A NaN score (a broken model or input) is a clear error on both paths, not a shape error.
TEST(TopSorted, NanScoresAreAnError) {
  at::Tensor s = at::arange(11, at::kFloat).unsqueeze(0).repeat({2, 1});
  s.index_put_({1, 4}, std::nan(""));
  for (const at::Tensor& t : {s, s.to(at::kDouble)})
    for (const int64_t k : {1, 3, 10})
      EXPECT_NE(test::error_text([&] { top_sorted(t, k); }).find("hold a NaN"), std::string::npos) << k << " " << t.scalar_type();
}

}  // namespace
}  // namespace kvb
