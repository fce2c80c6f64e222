// `kvbench show --experiment E --cell C --id ID [--model M]`: one sample's prompt, generation,
// answer, score and timings for Full and the cell side by side, from the result store.
#include <iostream>

#include "cli/command.h"
#include "eval/experiment_lookup.h"
#include "eval/show.h"

KVB_COMMAND(setup_show, "show", "Show one sample of a cell next to Full's (prompt, generation, score, timings)") {
  auto experiment = std::make_shared<std::string>();
  auto cell = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto results = std::make_shared<std::string>();
  sub.add_option("--experiment,-e", *experiment, "experiment name or config path (as for `kvbench table`)")->required();
  sub.add_option("--cell", *cell, "result folder name of the cell, e.g. snapkv-rho0.2")->required();
  sub.add_option("--id", *id, "sample id")->required();
  sub.add_option("--model", *model, "model name in the config (default: the first)");
  sub.add_option("--results", *results, "results root (default: the config's, normally results/)");
  return [=] {
    const auto exp = kvb::find_experiment(*experiment, {}, *results);
    std::cout << kvb::show_sample(exp, kvb::result_store_source(exp), *cell, *id, *model);
  };
}
