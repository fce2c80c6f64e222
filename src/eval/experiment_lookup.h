#pragma once
// Finds an experiment for `kvbench table` / `kvbench plot`: the config that really ran
// (<results>/<name>/run.json) when there is one, else configs/experiments/<name>.json, or an
// explicit config file.
#include <string>
#include <vector>

#include "eval/sweep.h"

namespace kvb {

// `name_or_path`: an experiment name or a .json config path. `results_root` non-empty overrides
// where results are read from.
Experiment find_experiment(const std::string& name_or_path, const std::vector<std::string>& sets,
                           const std::string& results_root);

}  // namespace kvb
