#include "eval/plot.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "eval/result_store.h"

namespace kvb {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Series {
  std::string title;
  std::vector<std::pair<double, double>> points;
};

std::string quote(const std::string& s) {  // a gnuplot string literal
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

// One .dat with a block per series (blank-line separated, indexed by `index` in gnuplot) and a
// .gp script; returns the PNG path.
// Colour-blind-safe (Okabe-Ito, then Tol) colours and one gnuplot point type each: series stay
// distinguishable when printed in grey. Beyond ten series the pairs repeat.
constexpr const char* kColours[] = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442",
                                    "#0072B2", "#D55E00", "#CC79A7", "#882255", "#44AA99"};
constexpr int kPointTypes[] = {7, 5, 9, 11, 13, 1, 2, 3, 4, 6};

// `xtics` non-empty: ticks exactly there (the swept values) instead of gnuplot's own.
std::string emit(const fs::path& dir, const std::string& stem, const std::string& title, const std::string& xlabel,
                 const std::string& ylabel, const std::vector<Series>& series, bool lines, bool logx,
                 const std::vector<double>& xtics = {}) {
  const fs::path dat = dir / (stem + ".dat"), gp = dir / (stem + ".gp"), png = dir / (stem + ".png");
  std::ofstream d(dat);
  for (size_t i = 0; i < series.size(); ++i) {
    d << "# " << series[i].title << "\n";
    for (const auto& [x, y] : series[i].points) d << fmt::format("{:.6g} {:.6g}\n", x, y);
    d << "\n\n";
  }
  std::ofstream g(gp);
  // noenhanced: method names such as streaming_llm must not turn into subscripts.
  g << "set terminal png size 900,600 noenhanced\nset output " << quote(png.string()) << "\n";
  g << "set title " << quote(title) << "\nset xlabel " << quote(xlabel) << "\nset ylabel " << quote(ylabel) << "\n";
  g << "set key outside right\nset grid\n" << (logx ? "set logscale x\n" : "");
  for (size_t i = 0; i < xtics.size(); ++i) g << (i ? ", " : "set xtics (") << fmt::format("{:g}", xtics[i]);
  if (!xtics.empty()) g << ")\n";
  if (series.empty()) {
    g << "set label 1 \"no records\" at graph 0.5, graph 0.5 center\nplot [0:1][0:1] NaN notitle\n";
  } else {
    g << "plot ";
    for (size_t i = 0; i < series.size(); ++i)
      g << (i ? ", \\\n     " : "") << quote(dat.string()) << " index " << i << " using 1:2 with "
        << (lines ? "linespoints" : "points") << " linecolor rgb " << quote(kColours[i % std::size(kColours)])
        << " pointtype " << kPointTypes[i % std::size(kPointTypes)] << " title " << quote(series[i].title);
    g << "\n";
  }
  return png.string();
}

std::string method_row(const Cell& c) {
  std::string s = c.label;
  for (auto it = c.grid_point.begin(); it != c.grid_point.end(); ++it)
    s += " " + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  return s;
}

}  // namespace

std::vector<std::string> write_plots(const Experiment& exp, const RecordSource& source, const std::string& out_dir,
                                     bool run_gnuplot) {
  fs::create_directories(out_dir);
  std::vector<std::string> pngs;
  const ModelSpec& model = exp.models.front();
  std::vector<double> rhos;
  for (const auto& c : exp.cells) rhos.push_back(c.rho);
  std::sort(rhos.begin(), rhos.end());
  rhos.erase(std::unique(rhos.begin(), rhos.end()), rhos.end());
  // One line per method row over ρ; Full (the reference) as a flat line when it has the metric.
  auto versus_rho = [&](const BenchmarkSpec& b, const std::string& metric, const std::string& stem,
                        const std::string& ylabel) {
    std::map<std::string, Series> by_row;
    std::vector<std::string> order;
    for (const auto& c : exp.cells) {
      const CellValue v = evaluate_cell(exp, source, model, c, b.id, "overall", metric);
      if (!v.has) continue;
      const std::string row = c.is_full() ? "Full" : method_row(c);
      if (!by_row.count(row)) order.push_back(row), by_row[row].title = row;
      if (c.is_full()) {
        by_row[row].points.push_back({*std::min_element(rhos.begin(), rhos.end()), v.value});
        by_row[row].points.push_back({1.0, v.value});
      } else {
        by_row[row].points.push_back({c.rho, v.value});
      }
    }
    std::vector<Series> series;
    for (const auto& r : order) {
      Series s = by_row[r];
      std::sort(s.points.begin(), s.points.end());
      series.push_back(std::move(s));
    }
    pngs.push_back(emit(out_dir, stem + "_" + path_component(b.id),
                        fmt::format("{}: {} vs retention ratio ({})", b.id, ylabel, model.name), "retention ratio ρ",
                        ylabel, series, true, true, rhos));
  };
  // A method swept over a numeric grid key (e.g. FlashCache's gamma): score vs that key, one
  // line per ρ, so the parameter's effect is read directly.
  auto versus_param = [&](const BenchmarkSpec& b, const std::string& method, const std::string& key) {
    std::map<double, Series> by_rho;
    std::vector<double> values;
    for (const auto& c : exp.cells) {
      if (c.method != method || !c.grid_point.contains(key) || !c.grid_point[key].is_number()) continue;
      const CellValue v = evaluate_cell(exp, source, model, c, b.id, "overall", "score");
      const double x = c.grid_point[key].get<double>();
      values.push_back(x);
      if (!v.has) continue;
      by_rho[c.rho].title = fmt::format("{} ρ={:g}", c.label, c.rho);
      by_rho[c.rho].points.push_back({x, v.value});
    }
    std::vector<Series> series;
    for (auto& [rho, s] : by_rho) {
      std::sort(s.points.begin(), s.points.end());
      series.push_back(std::move(s));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    pngs.push_back(emit(out_dir, fmt::format("score_vs_{}_{}_{}", path_component(key), path_component(method), path_component(b.id)),
                        fmt::format("{}: score vs {} ({}, {})", b.id, key, method, model.name), key, "score", series,
                        true, false, values));
  };
  for (const auto& b : exp.benchmarks) {
    versus_rho(b, "score", "score_vs_rho", "score");
    // Agreement with Full separates methods even where scores cannot (random-weight models).
    if (exp.full_cell()) {
      versus_rho(b, "agree_full", "agree_full_vs_rho", "same answer as Full (fraction)");
      versus_rho(b, "kl_full", "kl_full_vs_rho", "first-step KL(Full || method)");
    }
    std::set<std::pair<std::string, std::string>> swept;  // (method, numeric grid key)
    for (const auto& c : exp.cells)
      for (const auto& [key, v] : c.grid_point.items())
        if (v.is_number()) swept.insert({c.method, key});
    for (const auto& [method, key] : swept) versus_param(b, method, key);
  }
  // Per-sample scatter plots over every cell and benchmark, one series per method row.
  auto scatter = [&](const std::string& stem, const std::string& title, const char* xkey, const char* ykey,
                     const std::string& xlabel, const std::string& ylabel) {
    std::map<std::string, Series> by_row;
    std::vector<std::string> order;
    for (const auto& c : exp.cells)
      for (const auto& b : exp.benchmarks)
        for (const auto& r : source(model, c, b)) {
          if (!r.contains(xkey) || !r.contains(ykey) || !r[xkey].is_number() || !r[ykey].is_number()) continue;
          const std::string row = c.is_full() ? "Full" : method_row(c);
          if (!by_row.count(row)) order.push_back(row), by_row[row].title = row;
          by_row[row].points.push_back({r[xkey].get<double>(), r[ykey].get<double>()});
        }
    std::vector<Series> series;
    for (const auto& r : order) series.push_back(by_row[r]);
    pngs.push_back(emit(out_dir, stem, title, xlabel, ylabel, series, false, false));
  };
  scatter("compress_ms_vs_tokens", "compression latency vs prompt length", "prompt_tokens", "compress_ms",
          "prompt tokens", "compression ms");
  scatter("decode_ms_vs_kept_kv", "decoding time vs kept KV", "kept_tokens", "decode_ms_median",
          "kept KV tokens (all layers and heads)", "median decode ms / token");
  if (run_gnuplot) {
    for (const auto& png : pngs) {
      const std::string gp = fs::path(png).replace_extension(".gp").string();
      const std::string cmd = fmt::format("gnuplot '{}' 2>&1", gp);
      const int rc = std::system(cmd.c_str());
      KVB_CHECK(rc == 0, "gnuplot failed on {} (exit {}); is gnuplot installed? (scripts/setup.sh installs gnuplot-nox)",
                gp, rc);
    }
  }
  return pngs;
}

}  // namespace kvb
