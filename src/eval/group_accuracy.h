#pragma once
// Mean score per group and over all scored samples: the aggregation of the benchmarks whose
// official scripts average per-sample scores by category and overall (V* vstar_bench_eval.py
// and lmms-eval vstar_aggregate_results, FAVOR-Bench, our needle task). Failed samples are
// counted apart and enter no mean.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvb {

struct ScoredRecord;

struct GroupAccuracy {
  std::map<std::string, std::pair<double, int64_t>> by_group;  // group -> (score sum, scored samples)
  double sum = 0;
  int64_t n = 0;       // scored samples
  int64_t failed = 0;  // samples that failed before scoring

  // {group: 100 * mean score} over the groups that have a scored sample.
  nlohmann::json group_percent() const;
  // 100 * mean over all scored samples (micro average); 0 when none was scored.
  double overall_percent() const;
  // Plain mean of the per-group percentages (macro average); 0 when there is no group.
  double macro_percent() const;
};

GroupAccuracy tally_by_group(const std::vector<ScoredRecord>& records);

}  // namespace kvb
