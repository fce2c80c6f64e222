#include "eval/runner.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <spdlog/spdlog.h>

#include "compress/method.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/registry.h"
#include "engine/engine.h"
#include "eval/benchmark.h"
#include "eval/record_identity.h"
#include "eval/result_store.h"
#include "eval/show.h"

namespace kvb {
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& table_metrics() {
  static const std::vector<std::string> all = {
      "score", "failed", "rho", "prompt_tokens", "media_tokens", "kept_tokens", "kv_bytes_before", "kv_bytes_after",
      "vision_ms", "prefill_ms", "compress_ms", "decode_ms_median", "decode_steps", "agree_full", "kl_full"};
  return all;
}

double kl_divergence(const std::vector<float>& logp, const std::vector<float>& logq) {
  if (logp.empty() || logp.size() != logq.size()) return NAN;
  double kl = 0;
  for (size_t i = 0; i < logp.size(); ++i) {
    const double lp = logp[i];
    if (std::isinf(lp) && lp < 0) continue;  // p = 0 contributes nothing
    kl += std::exp(lp) * (lp - static_cast<double>(logq[i]));
  }
  return kl;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

namespace {

struct CellRun {
  const Cell* cell;
  std::unique_ptr<CompressionMethod> method;
  std::unique_ptr<ResultWriter> writer;
  json identity;
};

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(); }

struct Outcome {
  GenerationResult result;
  std::string prediction;
};

Outcome generate(Model& model, const Benchmark& bench, const Sample& sample, const Experiment& exp, const Cell& cell,
                 CompressionMethod& method, bool want_logprobs) {
  GenerationOptions o;
  o.max_new_tokens = exp.max_new_tokens > 0 ? exp.max_new_tokens : bench.max_new_tokens();
  o.ratio = cell.rho;
  o.stop_ids = exp.stop_ids;
  o.return_first_logprobs = want_logprobs;
  if (bench.likelihood_scoring()) o.continuations = sample.choices;
  Outcome out{model.generate(sample.messages, o, method), {}};
  out.prediction = out.result.text;
  if (bench.likelihood_scoring()) {
    const auto& lp = out.result.continuation_logprobs;
    KVB_CHECK(!lp.empty(), "sample '{}': the model returned no continuation scores", sample.id);
    out.prediction = std::string(1, static_cast<char>('A' + (std::max_element(lp.begin(), lp.end()) - lp.begin())));
  }
  return out;
}

// The fields every record has, failed or not.
json record_base(const Sample& s, const Experiment& exp, const ModelSpec& m, const BenchmarkSpec& b,
                 const CellRun& c) {
  // meta and choices make each record self-contained for `kvbench score` and the tables.
  return {{"id", s.id}, {"group", s.group}, {"meta", s.meta}, {"choices", s.choices}, {"model", m.name}, {"benchmark", b.id}, {"method", c.cell->method},
          {"cell", c.cell->dir}, {"rho", c.cell->rho}, {"params", c.method->params()}, {"experiment", exp.name},
          {"identity", c.identity}, {"prompt", prompt_text(s.messages)}};
}

json make_record(const Sample& s, const SampleScore& sc, const Outcome& o, const Experiment& exp, const ModelSpec& m,
                 const BenchmarkSpec& b, const CellRun& c) {
  const auto& r = o.result;
  json rec = record_base(s, exp, m, b, c);
  rec.update(json{{"prediction", o.prediction}, {"extracted", sc.extracted}, {"answer", s.answer},
                  {"score", sc.score}, {"failed", false}, {"prompt_tokens", r.prompt_tokens},
                  {"media_tokens", r.media_tokens}, {"kept_tokens", r.kept_tokens},
                  {"kv_bytes_before", r.kv_bytes_before}, {"kv_bytes_after", r.kv_bytes_after},
                  {"vision_ms", r.vision_ms}, {"prefill_ms", r.prefill_ms}, {"compress_ms", r.compress_ms},
                  {"decode_ms_median", number_or_null(median(r.decode_ms))},
                  {"decode_steps", static_cast<int64_t>(r.decode_ms.size())}, {"stop_reason", r.stop_reason}});
  return rec;
}

std::unique_ptr<Benchmark> make_benchmark(const BenchmarkSpec& b) {
  return Registry<Benchmark>::instance().create(b.name, b.options);
}
std::unique_ptr<CompressionMethod> make_method(const Cell& c) {
  return Registry<CompressionMethod>::instance().create(c.method, c.params);
}

}  // namespace

json check_recorded_settings(const Experiment& exp) {
  json cells = json::array(), benchmarks = json::object();
  for (const auto& c : exp.cells)
    cells.push_back({{"cell", c.dir}, {"method", c.method}, {"label", c.label}, {"rho", c.rho},
                     {"params", make_method(c)->params()}});
  for (const auto& b : exp.benchmarks) {
    const auto bench = make_benchmark(b);
    benchmarks[b.id] = {{"name", b.name}, {"options", bench->params()}};
    for (const auto& m : exp.models)
      for (const auto& c : exp.cells) {
        const ResultPath p{exp.results_root, exp.name, m.name, c.dir, b.id};
        check_identity(p.dir(), b.id, record_identity(exp, m, b, *bench, c, *make_method(c)));
      }
  }
  return {{"cells", cells}, {"benchmarks", benchmarks}};
}

RunSummary run_experiment(const Experiment& exp, const RunOptions& opt, const ModelLoader& load) {
  RunSummary summary;
  const std::string exp_dir = experiment_dir(exp.results_root, exp.name);
  json extra = {{"shard", fmt::format("{}/{}", opt.shard.index + 1, opt.shard.count)}, {"limit", opt.limit},
                {"source", exp.source}};
  extra.update(check_recorded_settings(exp));
  write_run_json(exp_dir, exp.resolved, extra);
  json described = json::array();
  for (const auto& mspec : exp.models) {
    spdlog::info("loading model {} from {}", mspec.name, mspec.path);
    std::unique_ptr<Model> model = load(mspec);
    described.push_back(model->describe());
    json with_models = extra;
    with_models["models"] = described;
    write_run_json(exp_dir, exp.resolved, with_models, /*append_history=*/false);
    for (const auto& bspec : exp.benchmarks) {
      auto bench = make_benchmark(bspec);
      const Model* m = model.get();
      bench->set_tokenizer({[m](const std::string& t) { return m->encode_text(t); },
                            [m](const std::vector<int64_t>& ids) { return m->decode_text(ids); }});
      const auto samples = bench->load(bspec.data);
      int64_t limit = bspec.limit;
      if (opt.limit > 0) limit = limit > 0 ? std::min(limit, opt.limit) : opt.limit;
      const auto positions = shard_positions(samples.size(), limit, opt.shard);
      std::vector<CellRun> cells;
      for (const auto& c : exp.cells) {
        ResultPath p{exp.results_root, exp.name, mspec.name, c.dir, bspec.id, opt.shard.index, opt.shard.count};
        auto method = make_method(c);
        json identity = record_identity(exp, mspec, bspec, *bench, c, *method);
        cells.push_back({&c, std::move(method), std::make_unique<ResultWriter>(p, opt.durable), std::move(identity)});
      }
      CellRun* full = exp.full_cell() ? &cells.front() : nullptr;
      Progress progress(fmt::format("{}/{}", mspec.name, bspec.id), static_cast<int64_t>(positions.size() * cells.size()),
                        "runs");
      for (size_t pos : positions) {
        const Sample& s = samples[pos];
        std::vector<CellRun*> pending;
        for (auto& c : cells)
          if (!c.writer->done_ids().count(s.id)) pending.push_back(&c);
        summary.skipped += static_cast<int64_t>(cells.size() - pending.size());
        progress.tick(static_cast<int64_t>(cells.size() - pending.size()));
        if (pending.empty()) continue;
        if (!s.error.empty()) {
          for (auto* c : pending) {
            json rec = record_base(s, exp, mspec, bspec, *c);
            rec.update(json{{"failed", true}, {"error", s.error}});
            c->writer->append(rec);
          }
          summary.failed += static_cast<int64_t>(pending.size());
          progress.tick(static_cast<int64_t>(pending.size()));
          continue;
        }
        // Full's answer and first-token distribution for the agreement columns; recomputed only
        // when Full was recorded by an earlier (interrupted) run.
        std::optional<Outcome> full_out;
        const bool need_full = full && std::any_of(pending.begin(), pending.end(), [](CellRun* c) { return !c->cell->is_full(); });
        if (need_full && pending.front() != full)
          full_out = generate(*model, *bench, s, exp, *full->cell, *full->method, true);
        for (auto* c : pending) {
          Outcome o = generate(*model, *bench, s, exp, *c->cell, *c->method, full != nullptr);
          const SampleScore sc = bench->score(s, o.prediction);
          json rec = make_record(s, sc, o, exp, mspec, bspec, *c);
          if (c == full) {
            full_out = o;
          } else if (full_out) {
            rec["agree_full"] = o.prediction == full_out->prediction;
            rec["kl_full"] = number_or_null(kl_divergence(full_out->result.first_token_logprobs, o.result.first_token_logprobs));
          }
          c->writer->append(rec);
          ++summary.ran;
          progress.set_note(fmt::format("{} {}", c->cell->dir, s.id));
          progress.tick();
        }
      }
    }
  }
  spdlog::info("{}: {} runs, {} already recorded, {} malformed samples", exp.name, summary.ran, summary.skipped,
               summary.failed);
  return summary;
}

}  // namespace kvb
