// `kvbench list [methods|benchmarks|models] [--json]`
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "compress/method.h"
#include "compress/method_params.h"
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

// "[0, 1]" reads "in [0, 1]"; ">= 1" reads as it is.
std::string range_text(const std::string& r) { return (r[0] == '[' || r[0] == '(' ? " in " : " ") + r; }

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
    for (auto& m : all["methods"]) m["params"] = kvb::method_parameters(m["name"].get<std::string>());
    if (*what != "all") all = nlohmann::json{{*what, all[*what]}};
    if (*as_json) {
      std::cout << (*what == "all" ? all : all[*what]).dump(2) << "\n";
      return;
    }
    const std::string indent = *what == "all" ? "  " : "";
    for (auto& [section, items] : all.items()) {
      if (*what == "all") std::cout << section << ":\n";
      for (const auto& it : items) {
        const std::string summary = it["summary"].get<std::string>();
        std::cout << indent << it["name"].get<std::string>() << (summary.empty() ? "" : "  - " + summary) << "\n";
        for (const auto& p : it.value("params", nlohmann::json::array()))
          std::cout << indent << "    " << p["name"].get<std::string>() << ": " << p["type"].get<std::string>()
                    << (p.contains("range") ? range_text(p["range"].get<std::string>()) : "")
                    << (p.contains("choices") ? " of " + p["choices"].dump() : "") << ", default "
                    << p["default"].dump() << "\n";
      }
    }
  };
}
