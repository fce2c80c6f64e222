// `kvbench run --config FILE [--set k=v]... [--limit N] [--shard i/n]`: runs an experiment grid
// into the result store; rerunning resumes where an interrupted run stopped.
#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "engine/engine.h"
#include "eval/result_store.h"
#include "eval/runner.h"
#include "eval/table.h"

namespace {
struct RunArgs {
  std::string config, shard = "1/1", results;
  std::vector<std::string> sets;
  int64_t limit = 0;
  bool no_fsync = false, check = false;
};

// Inputs that must exist, checked before the first model loads.
void check_inputs(const kvb::Experiment& exp) {
  for (size_t i = 0; i < exp.models.size(); ++i)
    if (!std::filesystem::exists(exp.models[i].path))
      throw kvb::UsageError(fmt::format(
          "{}: models[{}].path: '{}' does not exist (set KVB_MODELS or \"models\" in configs/paths.json)", exp.source,
          i, exp.models[i].path));
  for (size_t i = 0; i < exp.benchmarks.size(); ++i)
    if (!exp.benchmarks[i].data.empty() && !std::filesystem::exists(exp.benchmarks[i].data))
      throw kvb::UsageError(fmt::format(
          "{}: benchmarks[{}].data: '{}' does not exist (set KVB_DATA or \"data\" in configs/paths.json)", exp.source,
          i, exp.benchmarks[i].data));
}
}  // namespace

KVB_COMMAND(setup_run, "run", "Run an experiment config (models x benchmarks x method grid), resumable") {
  auto a = std::make_shared<RunArgs>();
  sub.add_option("--config,-c", a->config, "configs/experiments/NAME.json")->required();
  sub.add_option("--set", a->sets, "override a config key: key=value (dotted, e.g. methods.1.rho=[0.1])");
  sub.add_option("--limit", a->limit, "first N samples of each benchmark")->check(kvb::cli::non_negative_integer());
  sub.add_option("--shard", a->shard, "run slice i of n (1-based), e.g. 2/8 for a Slurm array task");
  sub.add_option("--results", a->results, "results root (default: the config's, normally results/)");
  sub.add_flag("--no-fsync", a->no_fsync, "do not fdatasync after each record (faster on slow disks)");
  sub.add_flag("--check", a->check, "validate the config, inputs and results already there, print the grid, run nothing");
  return [a] {
    kvb::RunOptions opt;
    opt.shard = kvb::parse_shard(a->shard);
    opt.limit = a->limit;
    opt.durable = !a->no_fsync;
    auto exp = kvb::load_experiment(a->config, a->sets);
    if (!a->results.empty()) exp.results_root = a->results;
    check_inputs(exp);
    const std::string results_dir = kvb::experiment_dir(exp.results_root, exp.name);
    if (a->check) {
      std::cout << fmt::format("{}: {} model(s) x {} benchmark(s) x {} cell(s)\n", exp.source, exp.models.size(),
                               exp.benchmarks.size(), exp.cells.size());
      for (const auto& c : exp.cells) std::cout << "  " << c.dir << "\n";
      // What the run itself would refuse first: results already there under other settings.
      kvb::check_recorded_settings(exp);
      std::cout << "results under " << results_dir << ": none, or all made with these settings\n";
      return;
    }
    // Records are appended one line and one write() each, so a stop loses at most the samples in flight.
    kvb::on_interrupt_say(
        fmt::format("the finished samples are recorded under {}; the same command resumes from there", results_dir));
    kvb::run_experiment(exp, opt, [](const kvb::ModelSpec& m) { return kvb::load_model(m.path, m.load_options); });
    std::cout << "results: " << results_dir << "\n";
    // One shard's table would pass for the experiment's; the merged one is `kvbench table`'s job.
    if (opt.shard.count == 1)
      std::cout << "\n" << kvb::render_tables(exp, kvb::result_store_source(exp), "md", "");
    else
      std::cout << "shard " << opt.shard.index + 1 << "/" << opt.shard.count
                << " done; once all are, `kvbench table --experiment " << a->config
                << (a->results.empty() ? "" : " --results " + a->results) << "` prints the tables\n";
  };
}
