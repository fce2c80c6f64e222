// kvbench plot: data files hold the right points and gnuplot turns them into PNGs.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "eval/plot.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Model m and benchmark a (test_mean) at rho 0.5 and 0.2, with the given "methods" list.
kvb::Experiment experiment(const std::string& methods) {
  return kvb::parse_experiment(json::parse(R"({"rho": [0.5, 0.2], "models": [{"name": "m", "path": "/x"}],
    "benchmarks": [{"name": "test_mean", "id": "a"}], "methods": )" + methods + "}"),
                               "plot.json", {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}});
}

}  // namespace

TEST(Plot, ScoreVsRhoAndScatterPlots) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("kvb_plot_{}", ::getpid());
  fs::remove_all(dir);
  auto exp = experiment(R"([{"name": "full"}, {"name": "test_topk", "label": "TopK"}])");
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
  const std::string gp = read("score_vs_rho_a.gp");
  EXPECT_NE(gp.find("set xtics (0.2, 0.5, 1)\n"), std::string::npos) << gp;  // the swept ρ and Full's 1
  EXPECT_NE(gp.find("index 0 using 1:2 with linespoints linecolor rgb \"#000000\" pointtype 7 title \"Full\""),
            std::string::npos) << gp;
  EXPECT_NE(gp.find("index 1 using 1:2 with linespoints linecolor rgb \"#E69F00\" pointtype 5 title \"TopK\""),
            std::string::npos) << gp;
  std::ifstream sc(dir / "compress_ms_vs_tokens.dat");
  std::string s((std::istreambuf_iterator<char>(sc)), {});
  EXPECT_NE(s.find("# TopK\n100 50\n101 50.5\n"), std::string::npos) << s;
  fs::remove_all(dir);
}

// A grid sweep gets score vs the swept key, one line per ρ, ticked at the swept values.
TEST(Plot, ScoreVsGridParameter) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("kvb_plot_grid_{}", ::getpid());
  fs::remove_all(dir);
  auto exp = experiment(R"([{"name": "full"}, {"name": "test_topk", "label": "TopK", "grid": {"gamma": [0.1, 0.3]}}])");
  // Right answers out of 4: 1 + (gamma > 0.2) + (rho > 0.3); Full all 4.
  auto source = [](const kvb::ModelSpec&, const kvb::Cell& c, const kvb::BenchmarkSpec&) {
    std::vector<json> out;
    const int right = c.is_full() ? 4 : 1 + (c.params["gamma"].get<double>() > 0.2) + (c.rho > 0.3);
    for (int i = 0; i < 4; ++i) out.push_back({{"id", fmt::format("s{}", i)}, {"group", "g1"}, {"score", i < right ? 1 : 0}});
    return out;
  };
  const auto pngs = kvb::write_plots(exp, source, dir.string(), false);
  EXPECT_NE(std::find(pngs.begin(), pngs.end(), (dir / "score_vs_gamma_test_topk_a.png").string()), pngs.end());
  std::ifstream d(dir / "score_vs_gamma_test_topk_a.dat"), g(dir / "score_vs_gamma_test_topk_a.gp");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(d)), {}),
            "# TopK ρ=0.2\n0.1 25\n0.3 50\n\n\n# TopK ρ=0.5\n0.1 50\n0.3 75\n\n\n");
  const std::string gp((std::istreambuf_iterator<char>(g)), {});
  EXPECT_NE(gp.find("set xtics (0.1, 0.3)\n"), std::string::npos) << gp;
  EXPECT_NE(gp.find("set xlabel \"gamma\""), std::string::npos) << gp;
  fs::remove_all(dir);
}
