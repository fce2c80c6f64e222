#pragma once
// `kvbench run`: every model (loaded once) × benchmark × cell of an experiment, sample-major
// (each sample runs through all cells before the next, so a kill leaves at most one sample
// half done), skipping samples a cell has already recorded. One record per (cell, sample):
//   id group meta choices prediction extracted answer score failed error
//   prompt_tokens media_tokens kept_tokens kv_bytes_before kv_bytes_after
//   vision_ms prefill_ms compress_ms decode_ms_median decode_steps stop_reason
//   agree_full kl_full (when the experiment has a Full cell; KL(Full || cell) of the first token)
//   model benchmark method cell rho params (resolved) experiment
//   identity (record_identity.h: a rerun under other settings is refused, never skipped)
//   prompt (the messages as text, media as placeholders: eval/show.h)
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eval/sweep.h"

namespace kvb {

class Model;

struct RunOptions {
  int64_t limit = 0;  // > 0: first N samples of each benchmark (before sharding)
  Shard shard;
  bool durable = true;  // fdatasync every record
};

struct RunSummary {
  int64_t ran = 0, skipped = 0, failed = 0;
};

using ModelLoader = std::function<std::unique_ptr<Model>(const ModelSpec&)>;

RunSummary run_experiment(const Experiment& exp, const RunOptions& options, const ModelLoader& load);

// Before anything is written: every record already in the experiment's cell folders must have
// been made with these settings (record_identity.h), else an Error naming the first record and
// what changed. Returns the resolved settings, for run.json.
nlohmann::json check_recorded_settings(const Experiment& exp);

// What a table column's "metric" may name: "score" and every numeric or boolean record field
// listed above, so a typo in a config is caught before a run instead of showing as dashes.
const std::vector<std::string>& table_metrics();

// KL(P || Q) of two log-probability vectors (natural log); NaN when sizes differ or are empty.
double kl_divergence(const std::vector<float>& logp, const std::vector<float>& logq);
double median(std::vector<double> v);  // NaN when empty

}  // namespace kvb
