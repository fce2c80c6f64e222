#include "eval/group_accuracy.h"

#include "eval/benchmark.h"

namespace kvb {

GroupAccuracy tally_by_group(const std::vector<ScoredRecord>& records) {
  GroupAccuracy t;
  for (const auto& r : records) {
    if (r.failed) {
      ++t.failed;
      continue;
    }
    auto& g = t.by_group[r.group];
    g.first += r.score, ++g.second;
    t.sum += r.score, ++t.n;
  }
  return t;
}

nlohmann::json GroupAccuracy::group_percent() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [g, v] : by_group) out[g] = 100.0 * v.first / static_cast<double>(v.second);
  return out;
}

double GroupAccuracy::overall_percent() const { return n ? 100.0 * sum / static_cast<double>(n) : 0.0; }

double GroupAccuracy::macro_percent() const {
  if (by_group.empty()) return 0.0;
  double s = 0;
  for (const auto& [g, v] : by_group) s += 100.0 * v.first / static_cast<double>(v.second);
  return s / static_cast<double>(by_group.size());
}

}  // namespace kvb
