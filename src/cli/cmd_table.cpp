// `kvbench table --experiment NAME [--format md|csv|json] [--long [--bootstrap N]]`: result tables
// like the paper's, or every result in long form for pandas.
#include <iostream>

#include "cli/command.h"
#include "eval/experiment_lookup.h"
#include "eval/table.h"

KVB_COMMAND(setup_table, "table", "Print an experiment's score and latency tables from its results") {
  auto experiment = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("md");
  auto model = std::make_shared<std::string>();
  auto results = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto long_form = std::make_shared<bool>(false);
  auto bootstrap = std::make_shared<int64_t>(0);
  sub.add_option("--experiment,-e", *experiment,
                 "experiment name (results/NAME/run.json or configs/experiments/NAME.json) or a config path")
      ->required();
  sub.add_option("--format,-f", *format, "md | csv | json")->check(CLI::IsMember({"md", "csv", "json"}));
  sub.add_option("--model", *model, "only this model (by its name in the config)");
  sub.add_option("--results", *results, "results root (default: the config's, normally results/)");
  sub.add_option("--set", *sets, "override a config key: key=value (dotted keys, e.g. tables.0.bootstrap=0)");
  sub.add_flag("--long", *long_form,
               "one row per model x cell x benchmark x group x metric (csv or json; numeric rho and param_* columns)");
  sub.add_option("--bootstrap", *bootstrap, "with --long: resamples for score CIs (default 0: none)")
      ->check(CLI::NonNegativeNumber);
  CLI::Option* format_opt = sub.get_option("--format");
  return [=] {
    auto exp = kvb::find_experiment(*experiment, *sets, *results);
    if (*long_form) {
      const std::string f = format_opt->count() ? *format : "csv";
      std::cout << kvb::render_long(exp, kvb::result_store_source(exp), f, *model, *bootstrap);
      return;
    }
    std::cout << kvb::render_tables(exp, kvb::result_store_source(exp), *format, *model);
  };
}
