// `kvbench list [methods|benchmarks|models] [--json]`
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "compress/method.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "models/model.h"

namespace {

template <class Base>
nlohmann::json describe() {
  nlohmann::json out = nlohmann::json::array();
  const auto& r = kvb::Registry<Base>::instance();
  for (const auto& n : r.names()) out.push_back({{"name", n}, {"summary", r.summary(n)}});
  return out;
}

}  // namespace

KVB_COMMAND(setup_list, "list", "List registered methods, benchmarks and model families") {
  auto what = std::make_shared<std::string>("all");
  auto as_json = std::make_shared<bool>(false);
  sub.add_option("what", *what, "methods | benchmarks | models | all")
      ->check(CLI::IsMember({"methods", "benchmarks", "models", "all"}));
  sub.add_flag("--json", *as_json, "print JSON");
  return [=] {
    nlohmann::json all = {{"methods", describe<kvb::CompressionMethod>()},
                          {"benchmarks", describe<kvb::Benchmark>()},
                          {"models", describe<kvb::ModelFamily>()}};
    if (*what != "all") all = nlohmann::json{{*what, all[*what]}};
    if (*as_json) {
      std::cout << (*what == "all" ? all : all[*what]).dump(2) << "\n";
      return;
    }
    for (auto& [section, items] : all.items()) {
      if (*what == "all") std::cout << section << ":\n";
      for (const auto& it : items)
        std::cout << (*what == "all" ? "  " : "") << it["name"].get<std::string>()
                  << (it["summary"].get<std::string>().empty() ? "" : "  - " + it["summary"].get<std::string>())
                  << "\n";
    }
  };
}
