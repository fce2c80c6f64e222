// dct_rows (the CPU DCT FlashCache runs on) against the textbook O(T^2) sums in double, for
// both algorithms (FFTW REDFT10/01 and Makhoul's reordering + one real FFT), both directions,
// odd and even lengths, row counts that leave a partial block, and misaligned rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "compress/dct.h"

namespace {

// Rows [N, T]: REDFT10 Y_k = 2 sum_n x_n cos(pi k (2n+1) / 2T); REDFT01 y_n = X_0 + 2 sum_{k>=1} X_k cos(...).
at::Tensor textbook_rows(const at::Tensor& x, kvb::DctKind kind) {
  const int64_t T = x.size(1);
  const at::Tensor n = at::arange(T, at::kDouble).view({1, T}), k = at::arange(T, at::kDouble).view({T, 1});
  const at::Tensor c = at::cos(M_PI * k * (2 * n + 1) / (2.0 * T));  // [k, n]
  const at::Tensor xd = x.to(at::kDouble);
  if (kind == kvb::DctKind::kII) return 2 * at::matmul(xd, c.t());
  at::Tensor w = 2 * c.clone();  // [k, n]
  w.select(0, 0).fill_(1.0);
  return at::matmul(xd, w);
}

std::string check(const at::Tensor& got, const at::Tensor& want, double tol) {
  const at::Tensor d = (got.to(at::kDouble) - want).abs();
  const double scale = want.abs().max().item<double>(), maxd = d.max().item<double>();
  if (maxd <= tol * scale) return "";
  std::ostringstream s;
  const int64_t j = d.flatten().argmax().item<int64_t>();
  s << "max |diff| " << maxd << " (scale " << scale << ", tol " << tol * scale << ") at flat index " << j << ": "
    << got.flatten()[j].item<double>() << " vs " << want.flatten()[j].item<double>();
  return s.str();
}

const char* name(kvb::DctKind k) { return k == kvb::DctKind::kII ? "DCT-II" : "DCT-III"; }

TEST(DctRows, BothAlgorithmsMatchTextbookSums) {
  at::manual_seed(501);
  // (T, rows): rows beyond one block for 501 and 2048 leave a partial block (1-row plans).
  for (auto [T, rows] : {std::pair<int64_t, int64_t>{1, 3}, {2, 5}, {3, 4}, {37, 9}, {64, 7}, {501, 150}, {2048, 37}}) {
    const at::Tensor x = at::randn({rows, T});
    for (auto kind : {kvb::DctKind::kII, kvb::DctKind::kIII}) {
      const at::Tensor want = textbook_rows(x, kind);
      for (auto algo : {kvb::DctAlgo::kRedft, kvb::DctAlgo::kMakhoul, kvb::DctAlgo::kAuto}) {
        at::Tensor y = at::empty_like(x);
        kvb::dct_rows(x, y, kind, algo);
        const std::string bad = check(y, want, 2e-5);
        EXPECT_TRUE(bad.empty()) << name(kind) << " T=" << T << " rows=" << rows << " " << kvb::dct_algo_name(algo)
                                 << ": " << bad;
      }
    }
  }
}

TEST(DctRows, MisalignedRowsAndRoundTrip) {
  at::manual_seed(37);
  for (int64_t T : {37, 501}) {
    const int64_t rows = 70;
    // One float past an aligned allocation: FFTW's SIMD alignment does not hold.
    const at::Tensor buf = at::randn({rows * T + 1});
    const at::Tensor x = buf.narrow(0, 1, rows * T).view({rows, T});
    at::Tensor obuf = at::empty({rows * T + 1});
    at::Tensor y = obuf.narrow(0, 1, rows * T).view({rows, T});
    for (auto algo : {kvb::DctAlgo::kRedft, kvb::DctAlgo::kMakhoul}) {
      kvb::dct_rows(x, y, kvb::DctKind::kII, algo);
      std::string bad = check(y, textbook_rows(x, kvb::DctKind::kII), 2e-5);
      EXPECT_TRUE(bad.empty()) << "misaligned DCT-II T=" << T << " " << kvb::dct_algo_name(algo) << ": " << bad;
      at::Tensor z = at::empty_like(x);
      kvb::dct_rows(y, z, kvb::DctKind::kIII, algo);
      bad = check(z, x.to(at::kDouble) * (2.0 * T), 2e-5);
      EXPECT_TRUE(bad.empty()) << "round trip T=" << T << " " << kvb::dct_algo_name(algo) << ": " << bad;
    }
  }
}

// highpass_sumsq (FlashCache's fused round trip) against the textbook sums: [H, T, D] columns
// through DCT-II, coefficients k < omega zeroed, DCT-III, squared and summed over D. D leaves a
// partial column block (block_rows(501) = 65, block_rows(1024) = 32); omega covers the edges,
// T/2 (the self-paired Makhoul bin at even T) and 0 (no mask: r = 2T x).
TEST(DctRows, HighpassSumsqMatchesTextbookRoundTrip) {
  at::manual_seed(37);
  for (auto [T, D] : {std::pair<int64_t, int64_t>{1, 3}, {2, 3}, {37, 5}, {64, 7}, {501, 70}, {1024, 37}}) {
    const int64_t H = 3;
    const at::Tensor x = at::randn({H, T, D}) + at::linspace(-2, 2, T).view({1, T, 1});
    const at::Tensor rows = x.transpose(1, 2).reshape({H * D, T});
    const at::Tensor coef = textbook_rows(rows, kvb::DctKind::kII);
    for (int64_t omega : {int64_t{0}, int64_t{1}, T / 2, T / 2 + 1, T - 1, T}) {
      if (omega < 0 || omega > T) continue;
      at::Tensor masked = coef.clone();
      masked.narrow(1, 0, omega).zero_();
      const at::Tensor r = textbook_rows(masked, kvb::DctKind::kIII).view({H, D, T});
      const at::Tensor want = r.pow(2).sum(1);
      at::Tensor got = at::full({H, T}, 0.5f);  // adds into what is there
      kvb::highpass_sumsq(x, omega, got);
      const std::string bad = check(got - 0.5, want, 5e-5);
      EXPECT_TRUE(bad.empty()) << "T=" << T << " D=" << D << " omega=" << omega << ": " << bad;
    }
  }
}

TEST(DctRows, ChoiceIsStableAndWisdomPathFollowsEnvironment) {
  const kvb::DctAlgo a = kvb::dct_rows_choice(kvb::DctKind::kII, 501);
  EXPECT_TRUE(a == kvb::DctAlgo::kRedft || a == kvb::DctAlgo::kMakhoul);
  EXPECT_EQ(kvb::dct_rows_choice(kvb::DctKind::kII, 501), a);
  const char* old = std::getenv("KVB_FFTW_WISDOM");
  const std::string saved = old ? old : "";
  setenv("KVB_FFTW_WISDOM", "off", 1);
  EXPECT_EQ(kvb::fftw_wisdom_path(), "");
  setenv("KVB_FFTW_WISDOM", "/tmp/x/w", 1);
  EXPECT_EQ(kvb::fftw_wisdom_path(), "/tmp/x/w");
  if (old)
    setenv("KVB_FFTW_WISDOM", saved.c_str(), 1);
  else
    unsetenv("KVB_FFTW_WISDOM");
}

}  // namespace
