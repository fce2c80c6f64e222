#include <gtest/gtest.h>

#include "cache/kv_cache.h"
#include "compress/plan.h"
#include "core/error.h"

using kvb::KeepPlan;
using kvb::KvCache;

namespace {

at::Tensor rows(std::vector<std::vector<int64_t>> r) {
  size_t w = 0;
  for (auto& x : r) w = std::max(w, x.size());
  auto t = at::zeros({static_cast<int64_t>(r.size()), static_cast<int64_t>(w)}, at::kLong);
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t j = 0; j < r[i].size(); ++j) t[i][j] = r[i][j];
  return t;
}

KvCache filled(at::Tensor& k, at::Tensor& v) {
  at::manual_seed(3);
  k = at::randn({2, 7, 3});
  v = at::randn({2, 7, 3});
  KvCache c(1);
  c.set_prefill(0, k, v);
  return c;
}

void expect_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << part << "'";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(KvCache, UniformBudget) {
  EXPECT_EQ(kvb::uniform_budget(1.0, 37), 37);
  EXPECT_EQ(kvb::uniform_budget(0.5, 37), 19);  // round(18.5) away from zero
  EXPECT_EQ(kvb::uniform_budget(0.2, 501), 100);
  EXPECT_EQ(kvb::uniform_budget(0.001, 37), 1);
  EXPECT_THROW(kvb::uniform_budget(0.0, 37), kvb::UsageError);
  EXPECT_THROW(kvb::uniform_budget(1.5, 37), kvb::UsageError);
}

TEST(KvCache, ValidationErrors) {
  at::Tensor k, v;
  auto c = filled(k, v);
  expect_error([&] { c.apply(0, {rows({{0, 1}}), {}, {}, {}}); }, "kv_heads=2");
  expect_error([&] { c.apply(0, {rows({{0, 1}, {1, 1}}), {}, {}, {}}); }, "not strictly ascending");
  expect_error([&] { c.apply(0, {rows({{0, 2}, {3, 1}}), {}, {}, {}}); }, "head 1 indices not strictly ascending");
  expect_error([&] { c.apply(0, {rows({{0, 7}, {1, 2}}), {}, {}, {}}); }, "outside [0, 7)");
  expect_error([&] { c.apply(0, {rows({{-1, 3}, {1, 2}}), {}, {}, {}}); }, "keeps index -1");
  expect_error([&] { c.apply(0, {rows({{0, 1}, {1, 2}}).to(at::kInt), {}, {}, {}}); }, "int64");
  expect_error([&] { c.apply(0, {rows({{0, 1}, {1, 2}}), {}, {}, {}}, 5); }, "budget is 5");
  expect_error([&] { c.apply(0, {rows({{0, 1}, {1, 2}}), at::tensor({2, 3}, at::kLong), {}, {}}); },
               "head 1 keeps 3 tokens");
  expect_error([&] { c.apply(0, {rows({{0, 1}, {1, 2}}), {}, at::zeros({2, 2, 4}), {}}); }, "replacement keys");
  expect_error([&] { c.apply(1, {rows({{0}, {1}}), {}, {}, {}}); }, "layer 1 out of range");
  KvCache empty(2);
  expect_error([&] { empty.keys(1); }, "no prefill");
  // A rejected plan leaves the cache untouched.
  EXPECT_TRUE(at::equal(c.keys(0), k));
  EXPECT_EQ(c.lengths(0), (std::vector<int64_t>{7, 7}));
}

TEST(KvCache, CompactsRaggedAndAppends) {
  at::Tensor k, v;
  auto c = filled(k, v);
  EXPECT_EQ(c.bytes(), 2 * 7 * 3 * 2 * 4);
  // Head 0 keeps 3 tokens, head 1 keeps 1 (padding slots in the plan are ignored).
  c.apply(0, {rows({{1, 4, 6}, {5, 99, 99}}), at::tensor({3, 1}, at::kLong), {}, {}}, 4);
  EXPECT_EQ(c.lengths(0), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(c.kept_tokens(), 4);
  EXPECT_EQ(c.bytes(), 4 * 3 * 2 * 4);
  auto keys = c.keys(0);
  ASSERT_EQ(keys.sizes(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_TRUE(at::equal(keys[0][0], k[0][1]));
  EXPECT_TRUE(at::equal(keys[0][2], k[0][6]));
  EXPECT_TRUE(at::equal(c.values(0)[1][0], v[1][5]));
  EXPECT_TRUE(at::equal(keys[1][1], at::zeros({3})));
  auto mask = c.valid_mask(0);
  ASSERT_TRUE(mask.defined());
  EXPECT_TRUE(at::equal(mask, at::tensor({1, 1, 1, 1, 0, 0}, at::kInt).to(at::kBool).view({2, 3})));
  // Decode: each head appends right after its own last token; positions continue from 7.
  auto nk = at::randn({2, 1, 3}), nv = at::randn({2, 1, 3});
  c.append(0, nk, nv);
  EXPECT_EQ(c.lengths(0), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(c.next_position(0), 8);
  EXPECT_TRUE(at::equal(c.keys(0)[0][3], nk[0][0]));
  EXPECT_TRUE(at::equal(c.keys(0)[1][1], nk[1][0]));
  EXPECT_TRUE(at::equal(c.values(0)[1][1], nv[1][0]));
  EXPECT_TRUE(at::equal(c.keys(0)[1][2], at::zeros({3})));
}

TEST(KvCache, ReplacementsAndUniformAppend) {
  at::Tensor k, v;
  auto c = filled(k, v);
  auto rk = at::randn({2, 2, 3}), rv = at::randn({2, 2, 3});
  c.apply(0, {rows({{0, 3}, {2, 6}}), {}, rk, rv});
  EXPECT_TRUE(at::equal(c.keys(0), rk));
  EXPECT_TRUE(at::equal(c.values(0), rv));
  EXPECT_FALSE(c.valid_mask(0).defined());
  for (int i = 0; i < 5; ++i) c.append(0, at::ones({2, 2, 3}) * i, at::ones({2, 2, 3}));
  EXPECT_EQ(c.lengths(0), (std::vector<int64_t>{12, 12}));
  EXPECT_EQ(c.next_position(0), 17);
  EXPECT_TRUE(at::equal(c.keys(0).narrow(1, 10, 2), at::ones({2, 2, 3}) * 4));
  EXPECT_TRUE(at::equal(c.keys(0).narrow(1, 0, 2), rk));
}
