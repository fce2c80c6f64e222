// `kvbench score --benchmark NAME --predictions FILE.jsonl`: re-scores saved predictions.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/benchmark_args.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/json_parse.h"
#include "core/log.h"

namespace {

const char* kFormat = R"(Predictions file: JSON lines, one per sample:
  {"id": "...", "prediction": "..."}                      with --data-root: the sample is
                                                           looked up by id in the loaded data
  {"id", "prediction", "answer", "group", "choices", "meta"}  self-contained (what the scorer
                                                           needs; the result store's records)
  "failed": true, or a non-empty "error", marks a sample that did not run.
Ids are the benchmark's sample ids (milebench: "<Dataset>/<sample_id>"). Lines that are not
JSON objects are reported with their line number and skipped. Output: the aggregate JSON on
stdout; --out FILE also writes one {"id", "group", "score", "extracted"} line per sample.)";

// Checks the type of an optional field: nlohmann's own type_error does not name the field.
void expect_field(const kvb::json& j, const char* key, bool ok, const char* what) {
  KVB_CHECK(!j.contains(key) || ok, "field '{}' must be {}, got {}", key, what, j.at(key).dump());
}

kvb::Sample sample_from_line(const kvb::json& j) {
  kvb::Sample s;
  s.id = j.at("id").get<std::string>();
  s.answer = j.at("answer").is_string() ? j.at("answer").get<std::string>() : j.at("answer").dump();
  expect_field(j, "group", j.value("group", kvb::json("")).is_string(), "a string");
  const kvb::json choices = j.value("choices", kvb::json::array());
  expect_field(j, "choices",
               choices.is_array() && std::all_of(choices.begin(), choices.end(), [](const auto& c) { return c.is_string(); }),
               "a list of strings");
  expect_field(j, "meta", j.value("meta", kvb::json::object()).is_object(), "an object");
  s.group = j.value("group", std::string());
  s.choices = choices.get<std::vector<std::string>>();
  if (j.contains("meta")) s.meta = j.at("meta");
  return s;
}

}  // namespace

KVB_COMMAND(setup_score, "score", "Re-score saved predictions (JSON lines) with a benchmark's official scorer") {
  auto args = std::make_shared<kvb::cli::BenchmarkArgs>();
  auto preds = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  kvb::cli::add_benchmark_args(sub, args, false);
  sub.add_option("--predictions", *preds, "JSON lines file of predictions")->required()->check(CLI::ExistingFile);
  sub.add_option("--out", *out, "write per-sample scores (JSON lines) here");
  sub.footer(kFormat);
  return [=] {
    auto bench = kvb::cli::make_benchmark(*args);
    std::map<std::string, kvb::Sample> samples;
    if (!args->data_root.empty())
      for (auto& s : bench->load(args->data_root)) samples[s.id] = std::move(s);

    std::ifstream in(*preds);
    KVB_CHECK(in, "{}: cannot open", *preds);
    std::unique_ptr<std::ofstream> per;
    if (!out->empty()) {
      per = std::make_unique<std::ofstream>(*out);
      KVB_CHECK(*per, "{}: cannot write", *out);
    }
    std::vector<kvb::ScoredRecord> records;
    size_t line_no = 0, bad = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      kvb::ScoredRecord rec;
      try {
        auto j = kvb::parse_json(line);
        KVB_CHECK(j.is_object() && j.contains("id") && j["id"].is_string(), "needs a string \"id\"");
        rec.id = j["id"].get<std::string>();
        kvb::Sample s;
        auto it = samples.find(rec.id);
        if (j.contains("answer")) {
          s = sample_from_line(j);
        } else {
          KVB_CHECK(it != samples.end(), "id '{}' {}", rec.id,
                    args->data_root.empty() ? "has no \"answer\" (pass --data-root to look it up)"
                                            : "is not in the data under --data-root");
          s = it->second;
        }
        rec.group = s.group;
        rec.meta = s.meta;
        kvb::SampleScore sc;
        const kvb::json failed = j.value("failed", kvb::json(false)), error = j.value("error", kvb::json(""));
        expect_field(j, "failed", failed.is_boolean(), "true or false");
        expect_field(j, "error", error.is_string() || error.is_null(), "a string");
        if (failed.get<bool>() || (error.is_string() && !error.get<std::string>().empty()) || !s.error.empty()) {
          rec.failed = true;
        } else {
          KVB_CHECK(j.contains("prediction") && j["prediction"].is_string(), "needs a string \"prediction\"");
          sc = bench->score(s, j["prediction"].get<std::string>());
          rec.score = sc.score;
        }
        if (per)
          *per << kvb::json{{"id", rec.id}, {"group", rec.group}, {"score", rec.score}, {"failed", rec.failed},
                            {"extracted", sc.extracted}}.dump() << "\n";
      } catch (const std::exception& e) {
        ++bad;
        spdlog::error("{}:{}: {}", *preds, line_no, e.what());
        continue;
      }
      records.push_back(std::move(rec));
    }
    if (bad) spdlog::warn("{}: {} of {} lines skipped", *preds, bad, line_no);
    KVB_CHECK(!records.empty(), "{}: no usable prediction lines", *preds);
    auto agg = bench->aggregate(records);
    agg["skipped_lines"] = bad;
    std::cout << agg.dump(2) << "\n";
  };
}
