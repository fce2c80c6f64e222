// The device-independent DCT (ATen FFT, the GPU path) against the textbook O(T^2) sums, in
// double, for odd and even lengths; and against FFTW's dct_raw on the same input.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "compress/dct.h"
#include "compress/dct_fft.h"

namespace {

// FFTW REDFT10: Y_k = 2 sum_n x_n cos(pi k (2n+1) / 2T); REDFT01: y_n = X_0 + 2 sum_{k>=1} X_k cos(...).
at::Tensor textbook(const at::Tensor& x, kvb::DctKind kind) {
  const int64_t T = x.size(1);
  const at::Tensor n = at::arange(T, at::kDouble).view({1, T}), k = at::arange(T, at::kDouble).view({T, 1});
  at::Tensor c = at::cos(M_PI * k * (2 * n + 1) / (2.0 * T));  // [k, n]
  const at::Tensor xd = x.to(at::kDouble);
  if (kind == kvb::DctKind::kII) return 2 * at::einsum("kn,bnc->bkc", {c, xd});
  at::Tensor w = 2 * c.t().clone();  // [n, k]
  w.select(1, 0).fill_(1.0);
  return at::einsum("nk,bkc->bnc", {w, xd});
}

void expect_close(const at::Tensor& got, const at::Tensor& want, double tol, const std::string& what) {
  const at::Tensor d = (got.to(at::kDouble) - want.to(at::kDouble)).abs();
  const double scale = want.abs().max().item<double>();
  const double maxd = d.max().item<double>();
  std::ostringstream first;
  const at::Tensor bad = (d.flatten() > tol * scale).nonzero().flatten();
  for (int64_t i = 0; i < std::min<int64_t>(bad.size(0), 4); ++i) {
    const int64_t j = bad[i].item<int64_t>();
    first << " [" << j << "] " << got.flatten()[j].item<double>() << " vs " << want.flatten()[j].item<double>();
  }
  EXPECT_LE(maxd, tol * scale) << what << ": max |diff| " << maxd << " (scale " << scale << "); first:" << first.str();
}

TEST(DctFft, MatchesTextbookAndFftw) {
  at::manual_seed(37);
  for (int64_t T : {1, 2, 37, 64, 501}) {
    const at::Tensor x = at::randn({3, T, 5});
    for (auto kind : {kvb::DctKind::kII, kvb::DctKind::kIII}) {
      const std::string what = (kind == kvb::DctKind::kII ? "DCT-II T=" : "DCT-III T=") + std::to_string(T);
      const at::Tensor got = kvb::dct_raw_fft(x, kind);
      ASSERT_EQ(got.sizes(), x.sizes()) << what;
      expect_close(got, textbook(x, kind), 2e-5, what + " vs textbook");
      at::Tensor fftw = at::empty_like(x);
      kvb::dct_raw(x.contiguous(), fftw, kind);
      expect_close(got, fftw, 2e-5, what + " vs FFTW");
    }
    expect_close(kvb::dct_raw_fft(kvb::dct_raw_fft(x, kvb::DctKind::kII), kvb::DctKind::kIII), x * (2.0 * T), 2e-5,
                 "round trip T=" + std::to_string(T));
  }
}

}  // namespace
