#pragma once
// Benchmark interface; each benchmark is one file under benchmarks/ (loader + prompt builder +
// answer extraction + scorer + aggregation) and self-registers. Options come from its config
// JSON (constructor), read with ConfigReader.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/prompt.h"

namespace kvb {

struct Sample {
  std::string id;       // unique and stable within the benchmark: the result store's key
  std::string group;    // aggregation unit (MileBench dataset, V* category, HR-Bench category...)
  std::vector<Message> messages;      // the prompt, built as the official code builds it
  std::vector<std::string> choices;   // option texts for multi-choice (likelihood scoring uses them)
  std::string answer;                 // gold answer as the official scorer expects it
  nlohmann::json meta = nlohmann::json::object();  // benchmark-specific fields the scorer needs
  std::string error;    // non-empty: malformed sample; recorded as a per-sample failure, not run
};

struct SampleScore {
  double score = 0;       // in [0, 1] (accuracy) or the metric (ROUGE-L)
  std::string extracted;  // what was extracted from the prediction (option letter, ...)
};

struct ScoredRecord {  // what aggregate() sees per sample
  std::string id, group;
  double score = 0;
  bool failed = false;
  nlohmann::json meta;
};

// The model's text tokenizer, for benchmarks whose official prompt building counts tokens
// (MileBench's left truncation of the context). The runner attaches it before load().
struct TokenCodec {
  std::function<std::vector<int64_t>(const std::string&)> encode;  // without special tokens
  std::function<std::string(const std::vector<int64_t>&)> decode;
};

class Benchmark {
 public:
  static constexpr const char* kKind = "benchmark";
  virtual ~Benchmark() = default;

  // Reads the dataset as published under `data_root`. Malformed rows become Samples with
  // `error` set (the rest still run); a missing/unreadable root throws kvb::Error.
  virtual std::vector<Sample> load(const std::string& data_root) const = 0;
  // Attaches the model's tokenizer (see TokenCodec); benchmarks that count no tokens ignore it.
  virtual void set_tokenizer(TokenCodec codec) { (void)codec; }
  // Groups the loaded data should hold (MileBench datasets, V* categories): `data check` lists
  // the ones with no samples as missing. Empty when the benchmark has no fixed list.
  virtual std::vector<std::string> expected_groups() const { return {}; }
  // Generation length for this benchmark's answers.
  virtual int64_t max_new_tokens() const { return 32; }
  // True when the benchmark scores by option log-likelihood (V*'s official mode): the engine
  // then scores sample.choices as continuations and passes the best option's letter as the
  // prediction.
  virtual bool likelihood_scoring() const { return false; }
  virtual SampleScore score(const Sample& sample, const std::string& prediction) const = 0;
  // Per-group and overall scores, in the layout of the paper tables:
  // {"overall": x, "groups": {"T-1": y, ...}, "n": N, "failed": F}.
  virtual nlohmann::json aggregate(const std::vector<ScoredRecord>& records) const = 0;
  // Resolved options (defaults filled in) for run.json.
  virtual nlohmann::json params() const = 0;
};

}  // namespace kvb
