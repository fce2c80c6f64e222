// kvbench plot: data files hold the right points and gnuplot turns them into PNGs.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "eval/plot.h"

namespace fs = std::filesystem;
using nlohmann::json;

TEST(Plot, ScoreVsRhoAndScatterPlots) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("kvb_plot_{}", ::getpid());
  fs::remove_all(dir);
  auto exp = kvb::parse_experiment(json::parse(R"({
    "rho": [0.5, 0.2], "models": [{"name": "m", "path": "/x"}],
    "benchmarks": [{"name": "test_mean", "id": "a"}],
    "methods": [{"name": "full"}, {"name": "test_topk", "label": "TopK"}]})"),
                                   "plot.json", {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}});
  // Full: 3/4 right; TopK at rho r: scores {1, 0, 0, 0} at 0.2 and {1, 1, 0, 0} at 0.5.
  auto source = [](const kvb::ModelSpec&, const kvb::Cell& c, const kvb::BenchmarkSpec&) {
    std::vector<json> out;
    const int right = c.is_full() ? 3 : c.rho > 0.3 ? 2 : 1;
    for (int i = 0; i < 4; ++i)
      out.push_back({{"id", fmt::format("s{}", i)}, {"group", "g1"}, {"score", i < right ? 1 : 0},
                     {"prompt_tokens", 100 + i}, {"compress_ms", c.rho * (100 + i)},
                     {"kept_tokens", static_cast<int>(c.rho * 100)}, {"decode_ms_median", 1 + c.rho}});
    if (!c.is_full())  // as the runner writes them: only compressed cells compare with Full
      for (int i = 0; i < 4; ++i) out[i]["agree_full"] = i == 0, out[i]["kl_full"] = 1 - c.rho + 0.1 * i;
    return out;
  };
  auto pngs = kvb::write_plots(exp, source, dir.string());
  ASSERT_EQ(pngs.size(), 5u);
  auto read = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_EQ(read("score_vs_rho_a.dat"), "# Full\n0.2 75\n1 75\n\n\n# TopK\n0.2 25\n0.5 50\n\n\n");
  EXPECT_EQ(read("agree_full_vs_rho_a.dat"), "# TopK\n0.2 0.25\n0.5 0.25\n\n\n");
  // mean over i of 1 - rho + 0.1 i = 1.15 - rho
  EXPECT_EQ(read("kl_full_vs_rho_a.dat"), "# TopK\n0.2 0.95\n0.5 0.65\n\n\n");
  for (const auto& p : pngs) {
    std::ifstream in(p, std::ios::binary);
    char magic[8] = {0};
    in.read(magic, 8);
    EXPECT_EQ(std::string(magic, 8), "\x89PNG\r\n\x1a\n") << p;
  }
  std::ifstream sc(dir / "compress_ms_vs_tokens.dat");
  std::string s((std::istreambuf_iterator<char>(sc)), {});
  EXPECT_NE(s.find("# TopK\n100 50\n101 50.5\n"), std::string::npos) << s;
  fs::remove_all(dir);
}
