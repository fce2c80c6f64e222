#pragma once
// The settings a recorded outcome depends on. Every record carries them, so that a rerun with
// other settings (a --set, a new kvbench) can neither skip samples as "already recorded" nor
// mix its records with the old ones under one run.json.
#include <nlohmann/json.hpp>

#include <string>

#include "eval/sweep.h"

namespace kvb {

class Benchmark;
class CompressionMethod;

// {"kvbench": version, "model": {"path", "load"}, "benchmark": {"name", "options"},
//  "method": {"name", "params"}, "rho", "generation": {"max_new_tokens", "stop_ids"}}, with the
// benchmark's and the method's resolved parameters (defaults filled in).
nlohmann::json record_identity(const Experiment& exp, const ModelSpec& model, const BenchmarkSpec& spec,
                               const Benchmark& bench, const Cell& cell, const CompressionMethod& method);

// Throws Error naming the file and every differing setting when a record of `benchmark` in
// the cell folder `dir` (any shard) was made under another identity.
void check_identity(const std::string& dir, const std::string& benchmark, const nlohmann::json& identity);

}  // namespace kvb
