#pragma once
// FlashCache's frequency-domain pieces: outlier deviation from a DCT low-pass "base" KV and
// the dynamic budget allocation (DBA) across layers.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace kvb {

// omega = max(1, ceil(gamma * T)), at most T.
int64_t lowpass_cutoff(double gamma, int64_t tokens);

struct OutlierScores {
  at::Tensor dev;      // [Hkv, T] float: mean_d (K - K_b)^2 + mean_d (V - V_b)^2 per head
  double ratio = 0.0;  // R = R_K + R_V: high-frequency (m >= omega) share of the spectral energy
};

// K_b / V_b are the inverse orthonormal DCT of the coefficients with rows m >= omega zeroed;
// one FFTW DCT-II and one DCT-III per tensor, no O(T^2) anywhere.
// Tensors off the CPU take outlier_scores_fft: the same quantities through ATen's FFT on the
// tensors' device (cuFFT), since FFTW only reads host memory.
OutlierScores outlier_scores(const at::Tensor& keys, const at::Tensor& values, int64_t omega);
OutlierScores outlier_scores_fft(const at::Tensor& keys, const at::Tensor& values, int64_t omega);

// DBA: B_l proportional to ratios[l], clamped to [lo, hi] with what clamping frees or takes
// spread over the other layers in proportion to their ratio, rounded by largest remainder to
// sum exactly to `total`. All-zero ratios give a uniform split.
std::vector<int64_t> dba_budgets(const std::vector<double>& ratios, int64_t total, int64_t lo, int64_t hi);

}  // namespace kvb
