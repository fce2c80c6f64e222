// Table layouts on a fixed record set. Expected values are worked out by hand from the records:
// benchmark test_mean aggregates as 100 * mean(score); metric columns are sample means with a
// 95% Student-t CI, t_{0.975,2} = 4.303 (e.g. ms {1,2,3}: 2 ± 4.303 * 1 / sqrt(3) = 2 ± 2.484).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "core/error.h"
#include "eval/table.h"

using nlohmann::json;

namespace {

const std::map<std::string, std::string> kVars = {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}};

kvb::Experiment golden_experiment() {
  return kvb::parse_experiment(json::parse(R"({
    "name": "golden", "rho": [0.5, 0.2],
    "models": [{"name": "m", "path": "/nowhere"}],
    "benchmarks": [{"name": "test_mean", "id": "a"}, {"name": "test_mean", "id": "b", "options": {"n": 3, "groups": 1}}],
    "methods": [{"name": "full"}, {"name": "test_topk", "label": "TopK", "grid": {"gamma": [0.1, 0.2]}}],
    "tables": [
      {"title": "Scores", "bootstrap": 0, "columns": [
        {"benchmark": "a", "label": "A"}, {"benchmark": "a", "group": "g1", "label": "A g1"},
        {"benchmark": "b", "metric": "compress_ms", "label": "ms", "better": "lower", "digits": 3}]},
      {"title": "Gamma", "layout": "param", "method": "test_topk", "param": "gamma", "param_label": "γ",
       "bootstrap": 0, "columns": [{"benchmark": "a", "label": "A"}]},
      {"title": "Rows", "layout": "param", "method": "test_topk", "param": "gamma", "orientation": "rows",
       "labels": {"0.1": "low γ", "0.2": "high γ"}, "bootstrap": 0,
       "columns": [{"benchmark": "a", "label": "A"}, {"benchmark": "b", "metric": "agree_full", "scale": 100, "label": "agree"}]}
    ]})"), "golden.json", kVars);
}

// Per cell: benchmark a scores (s0..s3; g1 = s0, s2), benchmark b compress_ms and agree_full.
struct CellData {
  std::vector<int> a;
  std::vector<double> ms;
  std::vector<int> agree;
};
const std::map<std::string, CellData> kData = {
    {"full", {{1, 1, 1, 0}, {0.5, 0.5, 0.5}, {}}},
    {"test_topk-rho0.5-gamma=0.1", {{1, 0, 1, 0}, {1, 2, 3}, {1, 1, 0}}},
    {"test_topk-rho0.5-gamma=0.2", {{1, 1, 1, 0}, {2, 2, 5}, {1, 1, 1}}},
    {"test_topk-rho0.2-gamma=0.1", {{0, 0, 1, 0}, {1, 1, 1}, {0, 1, 0}}},
    {"test_topk-rho0.2-gamma=0.2", {{1, 0, 0, 0}, {4, 1, 1}, {0, 0, 0}}},
};

std::vector<json> fixed_records(const kvb::ModelSpec&, const kvb::Cell& c, const kvb::BenchmarkSpec& b) {
  const CellData& d = kData.at(c.dir);
  std::vector<json> out;
  if (b.id == "a") {
    for (int i = 3; i >= 0; --i)  // reverse order: tables must not depend on record order
      out.push_back({{"id", fmt::format("s{}", i)}, {"group", fmt::format("g{}", i % 2 + 1)}, {"score", d.a[i]}});
  } else {
    for (size_t i = 0; i < d.ms.size(); ++i) {
      json r = {{"id", fmt::format("s{}", i)}, {"group", "g1"}, {"score", 0}, {"compress_ms", d.ms[i]}};
      if (!d.agree.empty()) r["agree_full"] = d.agree[i] == 1;
      out.push_back(r);
    }
  }
  return out;
}

const char* kGolden = R"(### Scores

| Method | A | A g1 | ms |
|---|---:|---:|---:|
| *ρ = 0.5* | | | |
| Full | 75.00 | 100.00 | 0.500 ± 0.000 |
| TopK (gamma=0.1) | 50.00 | **100.00** | **2.000** ± 2.484 |
| TopK (gamma=0.2) | **75.00** | **100.00** | 3.000 ± 4.303 |
| *ρ = 0.2* | | | |
| Full | 75.00 | 100.00 | 0.500 ± 0.000 |
| TopK (gamma=0.1) | **25.00** | **50.00** | **1.000** ± 0.000 |
| TopK (gamma=0.2) | **25.00** | **50.00** | 2.000 ± 4.303 |

mean ± 95% CI over n = 3–4 samples per cell; **bold**: best compressed setting.

### Gamma

| γ | 0.1 | 0.2 |
|---|---:|---:|
| *ρ = 0.5* | | |
| A | 50.00 | **75.00** |
| *ρ = 0.2* | | |
| A | **25.00** | **25.00** |

mean ± 95% CI over n = 4 samples per cell; **bold**: best compressed setting.

### Rows

| gamma | A | agree |
|---|---:|---:|
| *ρ = 0.5* | | |
| low γ | 50.00 | 66.67 ± 143.43 |
| high γ | **75.00** | **100.00** ± 0.00 |
| *ρ = 0.2* | | |
| low γ | **25.00** | **33.33** ± 143.43 |
| high γ | **25.00** | 0.00 ± 0.00 |

mean ± 95% CI over n = 3–4 samples per cell; **bold**: best compressed setting.
)";

}  // namespace

TEST(Table, MarkdownGolden) {
  const auto exp = golden_experiment();
  const std::string md = kvb::render_tables(exp, fixed_records, "md");
  if (md != kGolden) {
    size_t i = 0;
    while (i < md.size() && i < std::strlen(kGolden) && md[i] == kGolden[i]) ++i;
    FAIL() << "first difference at byte " << i << "\n--- got:\n" << md << "\n--- from there: " << md.substr(i, 80)
           << "\n--- expected from there: " << std::string(kGolden).substr(i, 80);
  }
}

TEST(Table, CsvAndJsonCarryTheSameNumbers) {
  const auto exp = golden_experiment();
  const std::string csv = kvb::render_tables(exp, fixed_records, "csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "block,Method,A,A ci95,A g1,A g1 ci95,ms,ms ci95,n");
  EXPECT_NE(csv.find("ρ = 0.5,TopK (gamma=0.1),50.00,,100.00,,2.000,2.484,4\n"), std::string::npos) << csv;
  json j = json::parse(kvb::render_tables(exp, fixed_records, "json"));
  ASSERT_EQ(j["tables"].size(), 3u);
  const json& row = j["tables"][0]["rows"][2];  // ρ = 0.5, TopK (gamma=0.2)
  EXPECT_EQ(row["label"], "TopK (gamma=0.2)");
  EXPECT_DOUBLE_EQ(row["cells"][0]["value"].get<double>(), 75.0);
  EXPECT_TRUE(row["cells"][0]["best"].get<bool>());
  EXPECT_NEAR(row["cells"][2]["ci95"].get<double>(), 4.303, 1e-9);
  EXPECT_THROW(kvb::render_tables(exp, fixed_records, "html"), kvb::UsageError);
}

// A typo in a metric would otherwise show as a column of dashes, like results not yet run.
TEST(Table, UnknownMetricIsAnErrorNamingTableAndColumn) {
  json cfg = json::parse(R"({"name": "t", "models": [{"name": "m", "path": "/nowhere"}],
    "benchmarks": [{"name": "test_mean", "id": "a"}], "methods": [{"name": "full"}],
    "tables": [{"columns": [{"benchmark": "a"}, {"benchmark": "a", "metric": "kl_ful"}]}]})");
  try {
    kvb::parse_experiment(cfg, "t.json", kVars);
    ADD_FAILURE() << "no error";
  } catch (const kvb::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("t.json: tables[0].columns[1].metric: unknown metric 'kl_ful'; known: score,"),
              std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kl_full"), std::string::npos) << e.what();
  }
  cfg["tables"][0]["columns"][1]["metric"] = "kl_full";
  EXPECT_NO_THROW(kvb::parse_experiment(cfg, "t.json", kVars));
}

TEST(Table, StudentTQuantiles) {
  // Standard table values of t_{0.975, df}.
  EXPECT_DOUBLE_EQ(kvb::t_quantile_975(1), 12.706);
  EXPECT_DOUBLE_EQ(kvb::t_quantile_975(10), 2.228);
  EXPECT_NEAR(kvb::t_quantile_975(40), 2.021, 0.002);
  EXPECT_NEAR(kvb::t_quantile_975(120), 1.980, 0.002);
  EXPECT_NEAR(kvb::t_quantile_975(100000), 1.960, 0.001);
}

TEST(Table, BootstrapCiMatchesTheNormalFormula) {
  // 501 Bernoulli scores in one group: the bootstrap half-width should approach the textbook
  // 1.96 * sqrt(p (1 - p) / n) * 100 for a proportion.
  auto exp = kvb::parse_experiment(json::parse(R"({
    "rho": [0.5], "models": [{"name": "m", "path": "/x"}],
    "benchmarks": [{"name": "test_mean", "id": "a", "options": {"n": 501, "groups": 1}}],
    "methods": [{"name": "full"}], "tables": [{"bootstrap": 2000, "columns": [{"benchmark": "a"}]}]})"),
                                   "ci.json", kVars);
  std::mt19937 gen(5);
  std::vector<json> recs;
  int ones = 0;
  for (int i = 0; i < 501; ++i) {
    int s = gen() % 10 < 3 ? 1 : 0;
    ones += s;
    recs.push_back({{"id", fmt::format("s{}", i)}, {"group", "g1"}, {"score", s}});
  }
  auto src = [&](const kvb::ModelSpec&, const kvb::Cell&, const kvb::BenchmarkSpec&) { return recs; };
  json j = json::parse(kvb::render_tables(exp, src, "json"));
  const json& cell = j["tables"][0]["rows"][0]["cells"][0];
  const double p = ones / 501.0, expected = 1.96 * std::sqrt(p * (1 - p) / 501) * 100;
  EXPECT_NEAR(cell["value"].get<double>(), 100 * p, 1e-9);
  EXPECT_NEAR(cell["ci95"].get<double>(), expected, 0.1 * expected) << "p = " << p;
}

namespace {

// Long form: one row per model x cell x benchmark x group x metric, numbers as numbers.
TEST(TableLong, OneRowPerCellBenchmarkGroupAndMetric) {
  const auto exp = golden_experiment();
  const std::string csv = kvb::render_long(exp, fixed_records, "csv");
  std::istringstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "experiment,model,method,label,rho,param_gamma,benchmark,group,metric,value,ci95,n");
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  auto has = [&](const std::string& part) {
    for (const auto& l : lines)
      if (l.find(part) != std::string::npos) return true;
    return false;
  };
  // test_topk at rho 0.5, gamma 0.1: a = {1, 0, 1, 0} -> 50 overall, g1 = {s0, s2} = 100; b ms {1, 2, 3}.
  EXPECT_TRUE(has(",0.5,0.1,a,overall,score,50,,4")) << csv;
  EXPECT_TRUE(has(",0.5,0.1,a,g1,score,100,,")) << csv;
  EXPECT_TRUE(has(",0.5,0.1,b,overall,compress_ms,2,2.484")) << csv;
  EXPECT_TRUE(has("golden,m,full,")) << csv;
  // 5 cells; a: score overall/g1/g2; b: score overall/g1 + compress_ms (+ agree_full off Full).
  const json rows = json::parse(kvb::render_long(exp, fixed_records, "json"));
  EXPECT_EQ(rows.size(), lines.size());
  EXPECT_TRUE(rows[0]["rho"].is_number());
  EXPECT_THROW(kvb::render_long(exp, fixed_records, "md"), kvb::UsageError);
}

}  // namespace
