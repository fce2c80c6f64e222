#pragma once
// Experiment configs (configs/experiments/*.json): models × benchmarks × method cells, where a
// method entry expands over its ρ list and its parameter grid. Everything is validated before
// any work, with errors naming the config file and the key.
//
// {
//   "name": "milebench_rho0.2", "description": "...",
//   "rho": [0.2],                                   // default ρ list of every method entry
//   "models": [{"name": "qwen2.5-vl-7b", "path": "${models}/Qwen/Qwen2.5-VL-7B-Instruct",
//               "dtype": "bfloat16", "device": "cuda", "options": {...load keys...}}],
//   "benchmarks": [{"name": "milebench", "id": "milebench", "data": "${data}/MileBench",
//                   "options": {...benchmark config...}, "limit": 0}],
//   "methods": [{"name": "full"},
//               {"name": "flashcache", "rho": [0.2, 0.1], "params": {"dba": true},
//                "grid": {"gamma": [0.1, 0.2]}, "label": "FlashCache"},
//               {"name": "all", "rho": [0.5]}],     // "all": every registered method
//   "generation": {"max_new_tokens": 0, "stop_ids": []},
//   "tables": [...],                                // see eval/table.h
//   "results": "${results}"
// }
// "${key}" in strings is replaced from the environment (KVB_MODELS, KVB_DATA, KVB_RESULTS, any
// KVB_<KEY>) or else configs/paths.json (found next to the experiments folder, or KVB_PATHS).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvb {

struct ModelSpec {
  std::string name, path;
  nlohmann::json load_options = nlohmann::json::object();  // dtype, device, options merged
};

struct BenchmarkSpec {
  std::string id, name, data;  // id: result file name and table key (several entries may share a name)
  nlohmann::json options = nlohmann::json::object();
  int64_t limit = 0;
};

struct Cell {
  std::string method, label, dir;  // dir: result folder name, unique per (method, ρ, params)
  nlohmann::json params = nlohmann::json::object();  // the method config (fixed + grid point)
  nlohmann::json grid_point = nlohmann::json::object();  // only the keys that vary
  double rho = 1.0;
  bool is_full() const { return method == "full"; }
};

struct Experiment {
  std::string name, description, source, results_root;
  std::vector<ModelSpec> models;
  std::vector<BenchmarkSpec> benchmarks;
  std::vector<Cell> cells;  // Full first when present
  int64_t max_new_tokens = 0;  // 0: each benchmark's own
  std::vector<int64_t> stop_ids;
  nlohmann::json tables = nlohmann::json::array();
  nlohmann::json resolved;  // the config after overrides and ${} substitution (for run.json)

  const Cell* full_cell() const;
  const BenchmarkSpec& benchmark(const std::string& id) const;
};

// Path variables: environment KVB_<KEY> first, then the paths file; defaults models, data, results.
std::map<std::string, std::string> load_path_vars(const std::string& paths_file);
// One string with its ${key}s replaced: the environment (KVB_<KEY>) first, then `vars`; an
// unknown key is an error naming `where`.
std::string substitute_path_vars(const std::string& text, const std::map<std::string, std::string>& vars,
                                 const std::string& where);
// Reads, overrides (--set key=value) and validates an experiment config file.
Experiment load_experiment(const std::string& path, const std::vector<std::string>& sets = {});
// Validates an already-read config; `source` names it in errors.
Experiment parse_experiment(const nlohmann::json& config, const std::string& source,
                            const std::map<std::string, std::string>& vars);
// Result folder name of a cell: "full", "snapkv-rho0.2-window16".
std::string cell_dir_name(const std::string& method, double rho, const nlohmann::json& params);

struct Shard {
  int index = 0, count = 1;  // 0-based index
};
// Parses "i/n" (1-based i, 1 <= i <= n); throws UsageError.
Shard parse_shard(const std::string& text);
// The sample positions this shard runs out of `n` loaded samples: the first `limit` (all if 0),
// then every count-th starting at index, so the shards' union is exactly the unsharded set.
std::vector<size_t> shard_positions(size_t n, int64_t limit, Shard shard);

}  // namespace kvb
