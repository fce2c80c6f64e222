#include "eval/experiment_lookup.h"

#include <filesystem>

#include "core/config.h"
#include "core/error.h"

namespace kvb {
namespace fs = std::filesystem;

Experiment find_experiment(const std::string& name_or_path, const std::vector<std::string>& sets,
                           const std::string& results_root) {
  Experiment exp;
  // The results root a run wrote to ("${results}" as a config resolves it), not always ./results.
  const std::string root = results_root.empty()
                               ? substitute_path_vars("${results}", load_path_vars("configs/paths.json"), "results root")
                               : results_root;
  const fs::path run_json = fs::path(root) / name_or_path / "run.json";
  const fs::path config = fs::path("configs/experiments") / (name_or_path + ".json");
  if (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json") {
    exp = load_experiment(name_or_path, sets);
  } else if (fs::exists(run_json)) {
    json run = read_json_file(run_json.string());
    if (!run.contains("config")) throw Error(fmt::format("{}: no 'config'", run_json.string()));
    json cfg = run["config"];
    apply_overrides(cfg, sets, run_json.string());
    exp = parse_experiment(cfg, run_json.string() + ": config", load_path_vars("configs/paths.json"));
  } else if (fs::exists(config)) {
    exp = load_experiment(config.string(), sets);
  } else {
    throw UsageError(fmt::format("no experiment '{}': neither {} nor {} exists", name_or_path, run_json.string(),
                                 config.string()));
  }
  if (!results_root.empty()) exp.results_root = results_root;
  return exp;
}

}  // namespace kvb
