// `kvbench plot --experiment NAME [--out DIR]`: score vs ρ, compression ms vs tokens, decode
// ms/token vs kept KV, as PNGs through gnuplot.
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "eval/experiment_lookup.h"
#include "eval/plot.h"
#include "eval/result_store.h"

KVB_COMMAND(setup_plot, "plot", "Write an experiment's figures (PNG, gnuplot)") {
  auto experiment = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto results = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  sub.add_option("--experiment,-e", *experiment, "experiment name or config path")->required();
  sub.add_option("--out", *out, "output folder (default: <results>/<experiment>/plots)");
  sub.add_option("--results", *results, "results root (default: the config's, normally results/)");
  sub.add_option("--set", *sets, "override a config key: key=value");
  return [=] {
    auto exp = kvb::find_experiment(*experiment, *sets, *results);
    const std::string dir =
        out->empty() ? (std::filesystem::path(kvb::experiment_dir(exp.results_root, exp.name)) / "plots").string() : *out;
    for (const auto& png : kvb::write_plots(exp, kvb::result_store_source(exp), dir)) std::cout << png << "\n";
  };
}
