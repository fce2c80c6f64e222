#include "compress/frequency.h"

#include <algorithm>
#include <cmath>

#include "compress/dct.h"
#include "compress/dct_fft.h"
#include "compress/selection.h"
#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

int64_t lowpass_cutoff(double gamma, int64_t tokens) {
  const auto w = static_cast<int64_t>(std::ceil(gamma * static_cast<double>(tokens) - 1e-9));
  return std::min(tokens, std::max<int64_t>(1, w));
}

namespace {

// Reused scratch (per thread) so each layer does not page-fault fresh buffers.
at::Tensor scratch(int slot, at::IntArrayRef sizes) {
  thread_local at::Tensor buf[2];
  auto& b = buf[slot];
  const int64_t n = sizes[0] * sizes[1];
  if (!b.defined() || b.numel() < n) b = at::empty({n}, at::kFloat);
  return b.narrow(0, 0, n).view(sizes);
}

// sumsq [H, T] = sum_d r^2 of the unnormalised residual r (kIII(kII(x)) = 2T x, so the residual
// is r / 2T and mean_d residual^2 = sumsq / (c (2T)^2)): adds that into dev and returns (high
// energy, total energy of x) in the orthonormal scale (Parseval: residual energy = high band).
std::pair<double, double> add_deviation(const at::Tensor& sumsq, const at::Tensor& x, int64_t t, int64_t c,
                                        at::Tensor& dev) {
  const double scale = 1.0 / (static_cast<double>(c) * 4.0 * static_cast<double>(t) * static_cast<double>(t));
  dev.add_(sumsq, scale);
  const double high = sumsq.sum(at::kDouble).item<double>() * scale * static_cast<double>(c);
  const at::Tensor flat = x.reshape({-1});
  return {high, flat.is_cpu() && flat.scalar_type() == at::kFloat ? flat.dot(flat).item<double>()  // no x^2 copy
                                                                  : x.pow(2).sum(at::kDouble).item<double>()};
}

// Adds mean_d r^2 (residual r of the low-pass reconstruction) into dev [H, T]; returns (high
// energy, total energy) in the orthonormal scale. The round trip runs fused per block of
// D-columns (highpass_sumsq) unless KVB_DCT_ALGO forces an algorithm: then it runs as two
// dct_rows passes over x transposed to [H * D, T] rows, the path before fusing (A/B timing).
std::pair<double, double> residual_into(const at::Tensor& x, int64_t omega, at::Tensor& dev) {
  const int64_t h = x.size(0), t = x.size(1), c = x.size(2);
  if (dct_fused()) {
    const at::Tensor xf = x.to(at::kFloat).contiguous();
    at::Tensor sumsq = at::zeros({h, t}, at::kFloat);
    highpass_sumsq(xf, omega, sumsq);
    return add_deviation(sumsq, xf, t, c, dev);
  }
  const at::Tensor rows = x.to(at::kFloat).transpose(1, 2).contiguous().view({h * c, t});
  at::Tensor y = scratch(0, {h * c, t}), r = scratch(1, {h * c, t});
  dct_rows(rows, y, DctKind::kII);
  y.narrow(1, 0, omega).zero_();
  dct_rows(y, r, DctKind::kIII);
  // sum_d r^2 as one read-only reduction (a squared 2-norm over d), no squared copy of r.
  return add_deviation(at::linalg_vector_norm(r.view({h, c, t}), 2, at::IntArrayRef({1})).square_(), rows, t, c, dev);
}

// The same on the tensor's own device through ATen's FFT (cuFFT on CUDA): [H, T, D] as is.
std::pair<double, double> residual_into_fft(const at::Tensor& x, int64_t omega, at::Tensor& dev) {
  const int64_t t = x.size(1), c = x.size(2);
  const at::Tensor xf = x.to(at::kFloat);
  at::Tensor y = dct_raw_fft(xf, DctKind::kII);
  y.narrow(1, 0, omega).zero_();
  return add_deviation(dct_raw_fft(y, DctKind::kIII).pow(2).sum(2), xf, t, c, dev);
}

using ResidualFn = std::pair<double, double> (*)(const at::Tensor&, int64_t, at::Tensor&);

OutlierScores scores_with(ResidualFn residual, const at::Tensor& keys, const at::Tensor& values, int64_t omega) {
  KVB_CHECK(keys.dim() == 3 && keys.sizes() == values.sizes(),
            "flashcache: keys {} and values {} must both be [Hkv, T, D]", shape_str(keys), shape_str(values));
  KVB_CHECK(omega >= 1 && omega <= keys.size(1), "flashcache: cut-off {} outside [1, {}]", omega, keys.size(1));
  OutlierScores out;
  out.dev = at::zeros({keys.size(0), keys.size(1)}, keys.options().dtype(at::kFloat));
  auto [hk, tk] = residual(keys, omega, out.dev);
  auto [hv, tv] = residual(values, omega, out.dev);
  out.ratio = (tk > 0 ? hk / tk : 0.0) + (tv > 0 ? hv / tv : 0.0);
  return out;
}

}  // namespace

OutlierScores outlier_scores_fft(const at::Tensor& keys, const at::Tensor& values, int64_t omega) {
  return scores_with(residual_into_fft, keys, values, omega);
}

OutlierScores outlier_scores(const at::Tensor& keys, const at::Tensor& values, int64_t omega) {
  // FFTW works on host memory; a GPU cache stays where it is.
  return scores_with(keys.device().is_cpu() ? residual_into : residual_into_fft, keys, values, omega);
}

std::vector<int64_t> dba_budgets(const std::vector<double>& ratios, int64_t total, int64_t lo, int64_t hi) {
  const auto n = static_cast<int64_t>(ratios.size());
  KVB_CHECK(n >= 1 && lo <= hi && n * lo <= total && total <= n * hi,
            "DBA: cannot give {} layers {} tokens within [{}, {}] each", n, total, lo, hi);
  double sum_r = 0.0;
  for (double r : ratios) {
    KVB_CHECK(r >= 0.0 && std::isfinite(r), "DBA: energy ratio {} is not a finite non-negative number", r);
    sum_r += r;
  }
  if (sum_r <= 0.0)
    return largest_remainder(std::vector<double>(n, static_cast<double>(total) / static_cast<double>(n)), total);
  const auto dlo = static_cast<double>(lo), dhi = static_cast<double>(hi);
  // f(lambda) = sum clamp(lambda R_l, lo, hi) is continuous and non-decreasing; find the
  // segment between breakpoints where it reaches `total`, then solve the linear piece exactly.
  std::vector<double> breaks{0.0};
  for (double r : ratios)
    if (r > 0) {
      breaks.push_back(dlo / r);
      breaks.push_back(dhi / r);
    }
  std::sort(breaks.begin(), breaks.end());
  auto f = [&](double lam) {
    double s = 0.0;
    for (double r : ratios) s += std::clamp(lam * r, dlo, dhi);
    return s;
  };
  size_t k = 0;
  while (k + 1 < breaks.size() && f(breaks[k]) < static_cast<double>(total)) ++k;
  const double mid = k == 0 ? breaks[0] : 0.5 * (breaks[k - 1] + breaks[k]);
  double fixed = 0.0, free_r = 0.0;
  std::vector<bool> is_free(n);
  for (int64_t l = 0; l < n; ++l) {
    const double v = mid * ratios[l];
    is_free[l] = k > 0 && v > dlo && v < dhi;
    if (is_free[l])
      free_r += ratios[l];
    else
      fixed += std::clamp(v, dlo, dhi);
  }
  const double lam = free_r > 0 ? (static_cast<double>(total) - fixed) / free_r : 0.0;
  std::vector<double> share(n);
  for (int64_t l = 0; l < n; ++l)
    share[l] = is_free[l] ? lam * ratios[l] : std::clamp(mid * ratios[l], dlo, dhi);
  return largest_remainder(share, total);
}

}  // namespace kvb
