#pragma once
// Comparisons for parity tests against outside goldens: a failure names the first element out of
// tolerance by its labelled index (layer/head/position...), both values, the max difference and
// the scale of the expected tensor.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace kvb::test {

inline std::string join(const std::vector<int64_t>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) s << (i ? " " : "") << v[i];
  return s.str();
}

// One unit in the last place of a bfloat16 number of magnitude |x| (8 significant bits).
inline double bf16_ulp(double x) {
  if (!(x > 0)) return std::ldexp(1.0, -133);
  return std::ldexp(1.0, static_cast<int>(std::floor(std::log2(x))) - 7);
}

inline std::string index_text(int64_t flat, const std::vector<int64_t>& shape, const std::vector<std::string>& names) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) idx[d] = flat % shape[d], flat /= shape[d];
  std::ostringstream s;
  for (size_t d = 0; d < idx.size(); ++d)
    s << (d ? ", " : "") << (d < names.size() ? names[d] : "dim" + std::to_string(d)) << " " << idx[d];
  return s.str();
}

inline void expect_close(const at::Tensor& got_in, const at::Tensor& want_in, double tol, const std::string& what,
                         const std::vector<std::string>& dim_names = {}) {
  ASSERT_TRUE(got_in.defined()) << what << ": kvbench produced no tensor";
  ASSERT_EQ(got_in.sizes(), want_in.sizes()) << what << ": shapes differ";
  const at::Tensor got = got_in.to(at::kDouble).cpu().contiguous(), want = want_in.to(at::kDouble).cpu().contiguous();
  const at::Tensor diff = (got - want).abs();
  const double max_diff = diff.numel() ? diff.max().item<double>() : 0.0;
  const double scale = want.numel() ? want.abs().max().item<double>() : 0.0;
  const at::Tensor bad = diff.reshape({-1}).gt(tol).logical_or(diff.reshape({-1}).isnan()).nonzero();
  // The measured agreement, failing or not (the issue notes quote these lines).
  std::cout << "[parity] " << what << ": max diff " << max_diff << " (tolerance " << tol << ", max |expected| " << scale
            << ")\n";
  if (bad.size(0) == 0) return;
  std::ostringstream s;
  s << what << ": " << bad.size(0) << " of " << got.numel() << " values differ by more than " << tol
    << " (max diff " << max_diff << ", max |expected| " << scale << "); first mismatches:";
  const std::vector<int64_t> shape(got.sizes().begin(), got.sizes().end());
  for (int64_t i = 0; i < std::min<int64_t>(bad.size(0), 5); ++i) {
    const int64_t f = bad[i][0].item<int64_t>();
    s << "\n  [" << index_text(f, shape, dim_names) << "] kvbench " << got.reshape({-1})[f].item<double>() << ", HF "
      << want.reshape({-1})[f].item<double>();
  }
  ADD_FAILURE() << s.str();
}

inline void expect_equal_ids(const at::Tensor& got_in, const at::Tensor& want_in, const std::string& what,
                             const std::vector<std::string>& dim_names = {"position"}) {
  ASSERT_EQ(got_in.sizes(), want_in.sizes()) << what << ": shapes differ";
  const at::Tensor got = got_in.to(at::kLong).cpu().contiguous(), want = want_in.to(at::kLong).cpu().contiguous();
  const at::Tensor bad = got.ne(want).reshape({-1}).nonzero();
  if (bad.size(0) == 0) return;
  std::ostringstream s;
  s << what << ": " << bad.size(0) << " of " << got.numel() << " differ; first mismatches:";
  const std::vector<int64_t> shape(got.sizes().begin(), got.sizes().end());
  for (int64_t i = 0; i < std::min<int64_t>(bad.size(0), 5); ++i) {
    const int64_t f = bad[i][0].item<int64_t>();
    s << "\n  [" << index_text(f, shape, dim_names) << "] kvbench " << got.reshape({-1})[f].item<int64_t>() << ", HF "
      << want.reshape({-1})[f].item<int64_t>();
  }
  ADD_FAILURE() << s.str();
}

// Greedy continuations: ids must be equal, except that where `near_tie` > 0 the first differing
// step may be one where the reference's own top-1/top-2 margin is <= near_tie (a near tie that
// rounding can flip); the steps after it follow a different prefix and are not compared.
// Returns an empty string when the rule holds, else what broke it.
inline std::string greedy_mismatch(const std::vector<int64_t>& got, const std::vector<int64_t>& want,
                                   const std::vector<double>& margins, double near_tie) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (i < got.size() && got[i] == want[i]) continue;
    if (i < got.size() && i < margins.size() && near_tie > 0 && margins[i] <= near_tie) return "";
    std::ostringstream s;
    s << "greedy ids differ at step " << i << ": kvbench " << (i < got.size() ? std::to_string(got[i]) : "(stopped)")
      << ", reference " << want[i] << " (reference top-2 margin there " << (i < margins.size() ? margins[i] : -1.0)
      << ", allowed near tie " << near_tie << ")\n  kvbench:   " << join(got) << "\n  reference: " << join(want);
    return s.str();
  }
  return "";
}

}  // namespace kvb::test
