#pragma once
// Options shared by the commands that build a benchmark without a model (score, data check):
// --benchmark, --config, --set, --datasets, --data-root.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/json_parse.h"
#include "core/registry.h"
#include "eval/benchmark.h"

namespace kvb::cli {

struct BenchmarkArgs {
  std::string name, config, datasets, data_root;
  std::vector<std::string> sets;
};

inline void add_benchmark_args(CLI::App& sub, const std::shared_ptr<BenchmarkArgs>& a, bool need_root) {
  sub.add_option("--benchmark", a->name, "registered benchmark name (kvbench list benchmarks)")->required();
  auto* root = sub.add_option("--data-root", a->data_root, "dataset folder as published");
  if (need_root) root->required();
  sub.add_option("--config", a->config, "benchmark config: a JSON file or an inline JSON object");
  sub.add_option("--set", a->sets, "config override key=value (repeatable)");
  sub.add_option("--datasets", a->datasets,
                 "comma-separated sub-datasets, or 'all' (benchmarks with a 'datasets' key, e.g. milebench)");
}

inline std::unique_ptr<Benchmark> make_benchmark(const BenchmarkArgs& a) {
  json cfg = json::object();
  if (!a.config.empty()) {
    if (std::filesystem::exists(a.config)) {
      cfg = read_json_file(a.config);
    } else {
      try {
        cfg = parse_json(a.config);
      } catch (const json::parse_error& e) {
        throw UsageError("--config: neither a file nor valid JSON: " + a.config);
      }
    }
  }
  apply_overrides(cfg, a.sets, "--set");
  if (!a.datasets.empty()) {
    json list = json::array();
    std::stringstream ss(a.datasets);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) list.push_back(item);
    cfg["datasets"] = list;
  }
  return Registry<Benchmark>::instance().create(a.name, cfg);
}

}  // namespace kvb::cli
