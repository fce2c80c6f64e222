// StreamingLLM, H2O, SnapKV, PyramidKV and AdaKV against direct transcriptions of their
// definitions (issue 6), with dense double-precision attention written out in loops.
#include <gtest/gtest.h>

#include "compress/attention.h"
#include "compress/selection.h"
#include "core/registry.h"
#include "method_reference.h"

namespace {

using kvb::ref::Vec;
using Rows = std::vector<std::vector<int64_t>>;

struct Case {
  int64_t hq, hkv, t, d, tq;
};

struct Data {
  Case c;
  kvb::LayerKV layer;
  at::Tensor all_q;  // [Hq, T, D]
};

Data make(const Case& c, uint64_t seed) {
  at::manual_seed(seed);
  Data x{c, {}, at::randn({c.hq, c.t, c.d}) * 1.5};
  x.layer.keys = at::randn({c.hkv, c.t, c.d}) * 1.5;
  x.layer.values = at::randn({c.hkv, c.t, c.d});
  x.layer.window_queries = x.all_q.narrow(1, c.t - c.tq, c.tq).contiguous();
  return x;
}

// p[j][i][t]: softmax over t <= pos_i of q_j(i) . k_{j / G}(t) / sqrt(D), query i at T - n + i.
std::vector<std::vector<Vec>> ref_probs(const Data& x, int64_t n) {
  const auto k = kvb::ref::to3(x.layer.keys);
  const auto q = kvb::ref::to3(x.all_q);
  const int64_t g = x.c.hq / x.c.hkv, t = x.c.t;
  std::vector<std::vector<Vec>> p(x.c.hq, std::vector<Vec>(n, Vec(t, 0.0)));
  for (int64_t j = 0; j < x.c.hq; ++j)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pos = t - n + i;
      double mx = -1e300;
      for (int64_t s = 0; s <= pos; ++s) {
        double dot = 0;
        for (int64_t d = 0; d < x.c.d; ++d) dot += q[j][pos][d] * k[j / g][s][d];
        p[j][i][s] = dot / std::sqrt(static_cast<double>(x.c.d));
        mx = std::max(mx, p[j][i][s]);
      }
      double z = 0;
      for (int64_t s = 0; s <= pos; ++s) z += (p[j][i][s] = std::exp(p[j][i][s] - mx));
      for (int64_t s = 0; s <= pos; ++s) p[j][i][s] /= z;
    }
  return p;
}

// avg counts zero padding (torch avg_pool1d default); max ignores padding.
Vec ref_pool(const Vec& s, int64_t kernel, const std::string& kind) {
  const auto n = static_cast<int64_t>(s.size());
  Vec out(n);
  for (int64_t i = 0; i < n; ++i) {
    double acc = kind == "avg" ? 0.0 : -1e300;
    for (int64_t o = 0; o < kernel; ++o) {
      const int64_t j = i - kernel / 2 + o;
      const double v = (j >= 0 && j < n) ? s[j] : (kind == "avg" ? 0.0 : -1e300);
      acc = kind == "avg" ? acc + v : std::max(acc, v);
    }
    out[i] = kind == "avg" ? acc / kernel : acc;
  }
  return out;
}

// SnapKV scores per kv head over [0, T - W).
std::vector<Vec> ref_snap_scores(const Data& x, int64_t w, int64_t kernel, const std::string& pooling) {
  const auto p = ref_probs(x, w);
  const int64_t g = x.c.hq / x.c.hkv, n = x.c.t - w;
  std::vector<Vec> out(x.c.hkv, Vec(n, 0.0));
  for (int64_t j = 0; j < x.c.hq; ++j) {
    Vec s(n, 0.0);
    for (int64_t i = 0; i < w; ++i)
      for (int64_t t = 0; t < n; ++t) s[t] += p[j][i][t];
    const Vec pooled = ref_pool(s, kernel, pooling);
    for (int64_t t = 0; t < n; ++t) out[j / g][t] += pooled[t] / g;
  }
  return out;
}

Rows ref_snap(const Data& x, int64_t budget, int64_t window, int64_t kernel, const std::string& pooling) {
  const int64_t w = std::min({window, x.c.tq, x.c.t}), t = x.c.t;
  Rows rows;
  const auto sc = budget > w ? ref_snap_scores(x, w, kernel, pooling) : std::vector<Vec>(x.c.hkv);
  for (int64_t h = 0; h < x.c.hkv; ++h) {
    std::vector<int64_t> row;
    if (budget > w) row = kvb::ref::top_k(sc[h], t - w, budget - w);
    for (int64_t i = t - std::min(budget, w); i < t; ++i) row.push_back(i);
    rows.push_back(row);
  }
  return rows;
}

const std::vector<Case> kCases = {{4, 2, 37, 5, 11}, {7, 1, 501, 6, 40}, {6, 3, 101, 3, 7}};
auto& reg() { return kvb::Registry<kvb::CompressionMethod>::instance(); }

TEST(AttentionReference, ProbsAndChunkedMass) {
  for (const auto& c : kCases) {
    auto x = make(c, 3);
    auto want = ref_probs(x, c.tq);
    Vec w;
    for (auto& a : want) for (auto& b : a) w.insert(w.end(), b.begin(), b.end());
    EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(kvb::attention_probs(x.layer.keys, x.layer.window_queries)), w, 1e-4, 1e-6));
    auto all = ref_probs(x, c.t);
    Vec mass;
    for (auto& a : all) {
      Vec col(c.t, 0.0);
      for (auto& b : a) for (int64_t t = 0; t < c.t; ++t) col[t] += b[t];
      mass.insert(mass.end(), col.begin(), col.end());
    }
    EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(kvb::attention_mass(x.layer.keys, x.all_q, -1, 5)), mass, 1e-4, 1e-5));
  }
}

TEST(AttentionReference, ChunkedColumnSums) {
  // Every chunk size (1 key, a few, one that leaves a remainder, all at once) and column counts
  // short of T - Tq, so the partly visible keys [n, T) enter only the normalisers.
  for (const auto& c : kCases) {
    auto x = make(c, 6);
    const auto p = ref_probs(x, c.tq);
    for (int64_t n : {c.t - c.tq, (c.t - c.tq) / 2, int64_t{0}})
      for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{16}, int64_t{0}}) {
        Vec want;
        for (const auto& head : p) {
          Vec col(n, 0.0);
          for (const auto& row : head)
            for (int64_t t = 0; t < n; ++t) col[t] += row[t];
          want.insert(want.end(), col.begin(), col.end());
        }
        for (auto kernel : {kvb::ColumnSumKernel::kAuto, kvb::ColumnSumKernel::kATen}) {
          const auto got = kvb::attention_column_sums(x.layer.keys, x.layer.window_queries, n, chunk, kernel);
          EXPECT_EQ(got.sizes(), (std::vector<int64_t>{c.hq, n}));
          EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(got), want, 1e-4, 1e-6))
              << "T=" << c.t << " n=" << n << " chunk=" << chunk << (kernel == kvb::ColumnSumKernel::kATen ? " ATen" : " auto");
        }
      }
  }
}

TEST(AttentionReference, Pooling) {
  at::manual_seed(5);
  auto s = at::rand({3, 23});
  for (int64_t k : {1, 2, 5, 7})
    for (const char* kind : {"avg", "max"}) {
      Vec want;
      for (int64_t h = 0; h < 3; ++h) {
        auto row = kvb::ref::flat(s[h]);
        auto p = ref_pool(row, k, kind);
        want.insert(want.end(), p.begin(), p.end());
      }
      EXPECT_TRUE(kvb::ref::close(kvb::ref::flat(kvb::pool_scores(s, k, kind)), want, 1e-6, 1e-7)) << kind << k;
    }
}

TEST(MethodReference, StreamingLLM) {
  for (const auto& c : kCases)
    for (int64_t sink : {0, 4}) {
      auto m = reg().create("streaming_llm", {{"sink", sink}});
      auto x = make(c, 1);
      for (int64_t b : {int64_t{1}, int64_t{3}, int64_t{9}, c.t / 2}) {
        Rows want(c.hkv);
        for (auto& row : want) {
          for (int64_t i = 0; i < std::min(sink, b); ++i) row.push_back(i);
          for (int64_t i = c.t - (b - std::min(sink, b)); i < c.t; ++i) row.push_back(i);
        }
        EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(m->compress(x.layer, {}, b)), want)) << "B=" << b;
      }
    }
}

TEST(MethodReference, H2O) {
  for (const auto& c : kCases) {
    auto x = make(c, 2);
    x.layer.attention_mass = kvb::attention_mass(x.layer.keys, x.all_q);
    const auto p = ref_probs(x, c.t);
    const int64_t g = c.hq / c.hkv;
    std::vector<Vec> score(c.hkv, Vec(c.t, 0.0));
    for (int64_t j = 0; j < c.hq; ++j)
      for (int64_t i = 0; i < c.t; ++i)
        for (int64_t t = 0; t < c.t; ++t) score[j / g][t] += p[j][i][t] / g;
    for (double ratio : {0.5, 0.0, 0.3})
      for (int64_t b : {int64_t{1}, int64_t{7}, c.t / 3}) {
        auto m = reg().create("h2o", {{"recent_ratio", ratio}});
        const auto r = static_cast<int64_t>(std::floor(b * ratio));
        Rows want;
        for (int64_t h = 0; h < c.hkv; ++h) {
          auto row = kvb::ref::top_k(score[h], c.t - r, b - r);
          for (int64_t i = c.t - r; i < c.t; ++i) row.push_back(i);
          want.push_back(row);
        }
        EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(m->compress(x.layer, {}, b)), want))
            << "T=" << c.t << " ratio=" << ratio << " B=" << b;
      }
  }
}

TEST(MethodReference, SnapKV) {
  for (const auto& c : kCases)
    for (const char* pooling : {"avg", "max"})
      for (int64_t kernel : {7, 4}) {
        auto x = make(c, 4);
        auto m = reg().create("snapkv", {{"window", 8}, {"kernel", kernel}, {"pooling", pooling}});
        for (int64_t b : {int64_t{3}, int64_t{8}, int64_t{9}, c.t / 2}) {
          EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(m->compress(x.layer, {}, b)),
                                          ref_snap(x, b, 8, kernel, pooling)))
              << "T=" << c.t << " " << pooling << " k=" << kernel << " B=" << b;
        }
      }
}

TEST(MethodReference, PyramidKV) {
  for (const auto& c : kCases) {
    const int64_t layers = 5, w = std::min<int64_t>(8, c.tq);
    std::vector<Data> data;
    std::vector<kvb::LayerKV> kv;
    for (int64_t l = 0; l < layers; ++l) {
      data.push_back(make(c, 20 + l));
      data.back().layer.layer = l;
      kv.push_back(data.back().layer);
    }
    auto m = reg().create("pyramidkv", {{"window", 8}, {"beta", 5}});
    for (int64_t b : {w + 1, c.t / 4, c.t / 2, c.t}) {
      auto got = m->layer_budgets(kv, {}, b);
      // Official PyramidKV: selectable budgets from max_num down to min_num linearly in depth.
      const int64_t base = b - w;
      int64_t lo = base / 5, hi = 2 * base - lo;
      if (hi >= c.t - w) hi = c.t - w, lo = 2 * base - hi;
      int64_t sum = 0;
      for (int64_t l = 0; l < layers; ++l) {
        const double want = hi - static_cast<double>(l) * (hi - lo) / (layers - 1) + w;
        EXPECT_LT(std::abs(got[l] - want), 1.0) << "T=" << c.t << " B=" << b << " layer " << l;
        sum += got[l];
        EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(m->compress(kv[l], {}, got[l])),
                                        ref_snap(data[l], got[l], 8, 7, "avg")));
      }
      EXPECT_EQ(sum, layers * b);
      if (b < c.t) EXPECT_GT(got.front(), got.back());
    }
  }
}

TEST(MethodReference, AdaKV) {
  for (const auto& c : kCases)
    for (double alpha : {0.2, 0.0, 1.0}) {
      auto x = make(c, 6);
      auto m = reg().create("adakv", {{"window", 8}, {"floor_alpha", alpha}, {"pooling", "max"}});
      const int64_t w = std::min<int64_t>(8, c.tq), n = c.t - w;
      const auto sc = ref_snap_scores(x, w, 7, "max");
      for (int64_t b : {w + 2, c.t / 3}) {
        const int64_t sel = b - w, fl = static_cast<int64_t>(std::floor(alpha * sel));
        // Each head's own top floor first, then the best remaining (head, token) pairs overall.
        std::vector<std::vector<bool>> taken(c.hkv, std::vector<bool>(n, false));
        std::vector<std::tuple<double, int64_t, int64_t>> pool;
        for (int64_t h = 0; h < c.hkv; ++h) {
          for (int64_t i : kvb::ref::top_k(sc[h], n, fl)) taken[h][i] = true;
          for (int64_t i = 0; i < n; ++i)
            if (!taken[h][i]) pool.push_back({sc[h][i], h, i});
        }
        std::stable_sort(pool.begin(), pool.end(), [](auto& a, auto& z) { return std::get<0>(a) > std::get<0>(z); });
        for (int64_t k = 0; k < c.hkv * (sel - fl); ++k) taken[std::get<1>(pool[k])][std::get<2>(pool[k])] = true;
        Rows want(c.hkv);
        for (int64_t h = 0; h < c.hkv; ++h) {
          for (int64_t i = 0; i < n; ++i)
            if (taken[h][i]) want[h].push_back(i);
          for (int64_t i = n; i < c.t; ++i) want[h].push_back(i);
        }
        EXPECT_TRUE(kvb::ref::same_rows(kvb::ref::plan_rows(m->compress(x.layer, {}, b)), want))
            << "T=" << c.t << " alpha=" << alpha << " B=" << b;
      }
    }
}

}  // namespace
