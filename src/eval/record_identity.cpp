#include "eval/record_identity.h"

#include "compress/method.h"
#include "core/error.h"
#include "core/version.h"
#include "eval/benchmark.h"
#include "eval/result_store.h"

namespace kvb {
using nlohmann::json;

json record_identity(const Experiment& exp, const ModelSpec& model, const BenchmarkSpec& spec, const Benchmark& bench,
                     const Cell& cell, const CompressionMethod& method) {
  return {{"kvbench", version()},
          {"model", {{"path", model.path}, {"load", model.load_options}}},
          {"benchmark", {{"name", spec.name}, {"options", bench.params()}}},
          {"method", {{"name", cell.method}, {"params", method.params()}}},
          {"rho", cell.rho},
          {"generation",
           {{"max_new_tokens", exp.max_new_tokens > 0 ? exp.max_new_tokens : bench.max_new_tokens()},
            {"stop_ids", exp.stop_ids}}}};
}

namespace {

std::string value_at(const json& j, const json::json_pointer& p) {
  return j.contains(p) ? j.at(p).dump() : "(absent)";
}

// "/benchmark/options/max_tokens: recorded 200, now 300; ..." (json::diff finds the leaves).
std::string differences(const json& recorded, const json& now) {
  std::string out;
  for (const auto& op : json::diff(recorded, now)) {
    const json::json_pointer p(op["path"].get<std::string>());
    out += fmt::format("{}{}: recorded {}, now {}", out.empty() ? "" : "; ", p.to_string(), value_at(recorded, p),
                       value_at(now, p));
  }
  return out;
}

}  // namespace

void check_identity(const std::string& dir, const std::string& benchmark, const json& identity) {
  for (const auto& file : benchmark_files(dir, benchmark)) {
    size_t line = 0;
    for (const auto& r : read_records(file, /*warn_incomplete=*/false)) {
      ++line;
      if (r.contains("identity") && r["identity"] == identity) continue;
      const std::string what = r.contains("identity") ? differences(r["identity"], identity)
                                                      : "the record has no settings (an older kvbench wrote it)";
      throw Error(fmt::format("{}: record {} (id '{}') was made with other settings than this run: {}. Give the "
                              "changed model its own name or the benchmark its own id, run under another experiment "
                              "name (--set name=NEW), or move the old results away",
                              file, line, r.value("id", ""), what));
    }
  }
}

}  // namespace kvb
