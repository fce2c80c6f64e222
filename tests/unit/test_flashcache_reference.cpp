// FlashCache and its DCT against the textbook definitions: the O(T^2) orthonormal DCT-II
// matrix, the low-pass base KV, the deviation, the energy ratio and DBA as the issue states it.
#include <gtest/gtest.h>

#include "compress/dct.h"
#include "compress/frequency.h"
#include "core/registry.h"
#include "method_reference.h"

namespace {

using kvb::ref::Vec;
constexpr double kPi = 3.14159265358979323846;

// M[m][n] = s_m cos(pi m (2n+1) / 2N), s_0 = sqrt(1/N), s_m = sqrt(2/N).
std::vector<Vec> dct_matrix(int64_t n) {
  std::vector<Vec> m(n, Vec(n));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < n; ++i)
      m[k][i] = std::sqrt((k == 0 ? 1.0 : 2.0) / n) * std::cos(kPi * k * (2 * i + 1) / (2.0 * n));
  return m;
}

struct RefScores {
  std::vector<Vec> dev;  // [H][T]
  double ratio = 0;
};

RefScores ref_outliers(const at::Tensor& keys, const at::Tensor& values, int64_t omega) {
  const int64_t h = keys.size(0), t = keys.size(1), d = keys.size(2);
  const auto m = dct_matrix(t);
  RefScores out;
  out.dev.assign(h, Vec(t, 0.0));
  for (const auto& x3 : {kvb::ref::to3(keys), kvb::ref::to3(values)}) {
    double high = 0, all = 0;
    for (int64_t a = 0; a < h; ++a)
      for (int64_t c = 0; c < d; ++c) {
        Vec coef(t, 0.0);
        for (int64_t k = 0; k < t; ++k)
          for (int64_t i = 0; i < t; ++i) coef[k] += m[k][i] * x3[a][i][c];
        for (int64_t k = 0; k < t; ++k) (k >= omega ? high : all) += coef[k] * coef[k];
        for (int64_t i = 0; i < t; ++i) {
          double base = 0;
          for (int64_t k = 0; k < omega; ++k) base += m[k][i] * coef[k];  // inverse = transpose
          out.dev[a][i] += (x3[a][i][c] - base) * (x3[a][i][c] - base) / d;
        }
      }
    out.ratio += high / (high + all);
  }
  return out;
}

// DBA as stated: proportional to R, clamped to [lo, hi], what clamping frees/takes spread over
// the others in proportion to R (found here by bisection on the common factor), then largest
// remainder rounding.
std::vector<int64_t> ref_dba(const Vec& r, int64_t total, int64_t lo, int64_t hi) {
  auto f = [&](double lam) {
    Vec x;
    for (double v : r) x.push_back(std::min<double>(hi, std::max<double>(lo, lam * v)));
    return x;
  };
  double a = 0, b = 1;
  auto sum = [](const Vec& x) { return std::accumulate(x.begin(), x.end(), 0.0); };
  while (sum(f(b)) < total) b *= 2;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (a + b);
    (sum(f(mid)) < total ? a : b) = mid;
  }
  const Vec x = f(b);
  std::vector<int64_t> out;
  std::vector<std::pair<double, size_t>> frac;
  int64_t used = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    out.push_back(static_cast<int64_t>(std::floor(x[i] + 1e-7)));
    used += out.back();
    frac.push_back({x[i] - out.back(), i});
  }
  std::stable_sort(frac.begin(), frac.end(), [](auto& p, auto& q) { return p.first > q.first; });
  for (size_t j = 0; used < total; ++j, ++used) out[frac[j].second] += 1;
  return out;
}

TEST(DctReference, OrthonormalDctAndInverseMatchTextbook) {
  for (auto shape : {std::vector<int64_t>{3, 37, 5}, std::vector<int64_t>{2, 501, 3}, std::vector<int64_t>{1, 1, 4}}) {
    at::manual_seed(7);
    auto x = at::randn(shape);
    auto c = kvb::dct_ortho(x);
    const auto m = dct_matrix(shape[1]);
    auto x3 = kvb::ref::to3(x);
    Vec want;
    for (int64_t a = 0; a < shape[0]; ++a)
      for (int64_t k = 0; k < shape[1]; ++k)
        for (int64_t d = 0; d < shape[2]; ++d) {
          double s = 0;
          for (int64_t i = 0; i < shape[1]; ++i) s += m[k][i] * x3[a][i][d];
          want.push_back(s);
        }
    EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(c), want, 1e-4, 1e-4)) << "T=" << shape[1];
    EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(kvb::idct_ortho(c)), kvb::ref::flat(x), 1e-4, 1e-4));
  }
}

TEST(FlashCacheReference, DeviationAndEnergyRatio) {
  for (auto [h, t, d] : {std::tuple<int64_t, int64_t, int64_t>{3, 37, 5}, {2, 501, 7}}) {
    for (double gamma : {0.2, 0.05, 1.0}) {
      SCOPED_TRACE(::testing::Message() << "T=" << t << " gamma=" << gamma);
      at::manual_seed(11);
      // A smooth trend plus noise, so low and high bands both carry energy.
      auto ramp = at::linspace(-1, 1, t).view({1, t, 1});
      auto k = at::randn({h, t, d}) * 0.3 + ramp * at::randn({h, 1, d});
      auto v = at::randn({h, t, d});
      const int64_t omega = kvb::lowpass_cutoff(gamma, t);
      EXPECT_EQ(omega, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(gamma * t - 1e-9))));
      auto want = ref_outliers(k, v, omega);
      Vec want_dev;
      for (auto& row : want.dev) want_dev.insert(want_dev.end(), row.begin(), row.end());
      // FFTW (the CPU path) and ATen's FFT (the path for GPU tensors, run here on the CPU).
      for (bool fft : {false, true}) {
        SCOPED_TRACE(fft ? "ATen FFT path" : "FFTW path");
        auto got = fft ? kvb::outlier_scores_fft(k, v, omega) : kvb::outlier_scores(k, v, omega);
        EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(got.dev), want_dev, 2e-3, 1e-6));
        EXPECT_NEAR(got.ratio, want.ratio, 1e-4 * std::max(1.0, want.ratio));
      }
    }
  }
}

TEST(FlashCacheReference, KeepsTopDeviationWithProtectionAndGranularity) {
  auto& reg = kvb::Registry<kvb::CompressionMethod>::instance();
  for (auto [h, t, d] : {std::tuple<int64_t, int64_t, int64_t>{3, 37, 5}, {2, 501, 7}}) {
    at::manual_seed(13);
    kvb::LayerKV layer;
    layer.keys = at::randn({h, t, d}) + at::linspace(0, 3, t).view({1, t, 1});
    layer.values = at::randn({h, t, d});
    kvb::PrefillInfo info;
    for (const char* gran : {"head", "layer"})
      for (auto [sink, recent] : {std::pair<int64_t, int64_t>{0, 0}, {3, 5}}) {
        SCOPED_TRACE(::testing::Message() << "T=" << t << " " << gran << " sink=" << sink << " recent=" << recent);
        auto m = reg.create("flashcache", {{"gamma", 0.1}, {"dba", false}, {"granularity", gran},
                                           {"protect_sink", sink}, {"protect_recent", recent}});
        const int64_t budget = t / 4;
        auto plan = m->compress(layer, info, budget);
        auto ref = ref_outliers(layer.keys, layer.values, kvb::lowpass_cutoff(0.1, t));
        std::vector<std::vector<int64_t>> want;
        for (int64_t a = 0; a < h; ++a) {
          Vec s(t, 0.0);
          for (int64_t i = 0; i < t; ++i)
            if (std::string(gran) == "head") s[i] = ref.dev[a][i];
            else for (int64_t b = 0; b < h; ++b) s[i] += ref.dev[b][i] / h;
          for (int64_t i = 0; i < t; ++i)
            if (i < sink || i >= t - recent) s[i] = 1e300;
          want.push_back(kvb::ref::top_k(s, t, budget));
        }
        EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(plan), want));
      }
  }
}

TEST(FlashCacheReference, DbaMatchesDefinition) {
  // Direct: clamping at both ends with redistribution.
  const Vec r{0.001, 5.0, 1.0, 1.0, 0.5, 0.02, 2.5};
  for (auto [total, lo, hi] : {std::tuple<int64_t, int64_t, int64_t>{7 * 40, 5, 101}, {7 * 9, 2, 37}, {7 * 37, 1, 37}}) {
    SCOPED_TRACE(::testing::Message() << "total=" << total << " lo=" << lo << " hi=" << hi);
    auto got = kvb::dba_budgets(r, total, lo, hi);
    EXPECT_EQ(got, ref_dba(r, total, lo, hi));
    EXPECT_EQ(std::accumulate(got.begin(), got.end(), int64_t{0}), total);
    for (auto b : got) {
      EXPECT_GE(b, lo);
      EXPECT_LE(b, hi);
    }
  }
  EXPECT_EQ(kvb::dba_budgets({0, 0, 0}, 10, 1, 9), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_THROW(kvb::dba_budgets({1, 1}, 50, 1, 20), kvb::Error);

  // Through the method: layers with more high-frequency energy get more budget.
  auto m = kvb::Registry<kvb::CompressionMethod>::instance().create("flashcache", {{"gamma", 0.2}});
  const int64_t t = 101, h = 2, d = 6;
  std::vector<kvb::LayerKV> layers;
  Vec ratios;
  at::manual_seed(17);
  for (int64_t l = 0; l < 5; ++l) {
    kvb::LayerKV kv;
    kv.layer = l;
    auto smooth = at::sin(at::linspace(0, 3, t)).view({1, t, 1}) * at::randn({h, 1, d}) * 4;
    kv.keys = smooth + at::randn({h, t, d}) * (0.05 + 0.4 * l);
    kv.values = at::randn({h, t, d}) * 0.1 + smooth;
    ratios.push_back(ref_outliers(kv.keys, kv.values, kvb::lowpass_cutoff(0.2, t)).ratio);
    layers.push_back(kv);
  }
  const int64_t uniform = 20;
  auto got = m->layer_budgets(layers, {}, uniform);
  EXPECT_EQ(got, ref_dba(ratios, 5 * uniform, std::min<int64_t>(uniform, 2), t));
  EXPECT_LT(got.front(), got.back());
}

}  // namespace
