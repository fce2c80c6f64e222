// `kvbench train-organism --out DIR [--seed N] [--steps N] [--batch N] [--lr X] [--eval-every N] [--stop-after N]
//  [--eval-samples N] [--curriculum-tokens N] [--curriculum-hold F]
//  [--curriculum-full F] [--average-from F] [--average-decay X] [--merges N] [--layers N] [--stretch-positions N] [--stage F:TASKS]... [--prompt-loss X] [--copy-loss X] [--set train.KEY=V] [--set eval.KEY=V] [--device D] [--train-threads N] [--no-plot]`
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "cli/command.h"
#include "core/config.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/threads.h"
#include "eval/text_norm.h"
#include "train/organism.h"

KVB_COMMAND(setup_train_organism, "train-organism",
            "Train the small Qwen2.5-VL-architecture model on the needle tasks (the demo's model)") {
  auto o = std::make_shared<kvb::OrganismOptions>(kvb::default_organism_options());
  auto sets = std::make_shared<std::vector<std::string>>();
  auto stages = std::make_shared<std::vector<std::string>>();
  auto no_plot = std::make_shared<bool>(false);
  auto train_threads = std::make_shared<int>(1);
  sub.add_option("--out", o->out_dir, "checkpoint folder (resumed when it holds a run with the same settings)")->required();
  sub.add_option("--seed", o->seed, "initial weights and training sample stream")->capture_default_str();
  sub.add_option("--steps", o->steps, "optimiser steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--batch", o->batch, "samples per step")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--lr", o->lr, "peak AdamW learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--warmup", o->warmup, "linear warm-up steps")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--eval-every", o->eval_every, "held-out accuracy every N steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--stop-after", o->stop_after, "stop after this step, saved; the same command without it goes on (0: train to the end)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--save-every", o->save_every, "checkpoint every N steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--curriculum-tokens", o->curriculum_tokens,
                 "training haystacks stay this short until --curriculum-hold, then grow to train.max_tokens by --curriculum-full (0: off)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--curriculum-hold", o->curriculum_hold, "fraction of the steps on short haystacks")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub.add_option("--curriculum-full", o->curriculum_full, "fraction of the steps by which haystacks reach train.max_tokens")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub.add_option("--prompt-loss", o->prompt_loss, "weight of the next-token loss over the prompt's text")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--copy-loss", o->copy_loss, "weight of the loss over tokens the context already showed after the same words")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--stretch-positions", o->stretch_positions,
                 "spread a shorter training haystack's positions over a span drawn up to N (0: off)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--average-from", o->average_from,
                 "fraction of the steps from which the checkpoint is an exponential moving average of the weights (1: none)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub.add_option("--average-decay", o->average_decay, "the average's decay per step")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  std::string default_stages;
  for (const auto& [from, tasks] : o->task_stages) default_stages += fmt::format(" {}:{}", from, fmt::join(tasks, ","));
  sub.add_option("--stage", *stages,
                 "FROM:TASK,TASK... from this fraction of the steps on, train on these tasks (repeatable; the first FROM is "
                 "0; default" + default_stages + ")");
  sub.add_option("--layers", o->layers, "LLM layers (0: the organism's 4)")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--merges", o->merges, "BPE merges the tokenizer learns on the task texts (0: one token per byte)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--eval-samples", o->eval_samples, "held-out samples per task")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--set", *sets,
                 "needle options of the training stream or the held-out set: train.KEY=V or eval.KEY=V, e.g. "
                 "train.max_tokens=800 (repeatable)");
  sub.add_option("--device", o->device, "cpu (default), cuda or cuda:N");
  // The organism's matrices (hidden 128, a few hundred tokens a sample) are too small to split:
  // on this 2-core VM a second thread made a step 2.2x slower (87 vs 188 steps in 60 s). A
  // second core is better spent on a second run.
  sub.add_option("--train-threads", *train_threads, "CPU threads while training (default 1, whatever --threads says)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_flag("--no-plot", *no_plot, "skip the gnuplot curves");
  return [o, sets, stages, no_plot, train_threads] {
    if (!stages->empty()) o->task_stages.clear();
    for (const auto& s : *stages) {
      const auto colon = s.find(':');
      char* end = nullptr;
      const double from = colon == std::string::npos ? -1 : std::strtod(s.c_str(), &end);
      if (colon == std::string::npos || end != s.c_str() + colon || s.size() == colon + 1)
        throw kvb::UsageError("--stage " + s + ": expected FROM:TASK,TASK (e.g. 0.2:code,majority)");
      o->task_stages.emplace_back(from, kvb::text::split(s.substr(colon + 1), ","));
    }
    std::vector<std::string> train, eval;
    for (const auto& s : *sets) {
      if (s.rfind("train.", 0) == 0) train.push_back(s.substr(6));
      else if (s.rfind("eval.", 0) == 0) eval.push_back(s.substr(5));
      else throw kvb::UsageError("--set " + s + ": expected train.KEY=VALUE or eval.KEY=VALUE");
    }
    kvb::apply_overrides(o->train_tasks, train, "--set train.");
    kvb::apply_overrides(o->eval_tasks, eval, "--set eval.");
    o->plot = !*no_plot;
    kvb::use_threads(*train_threads);
    spdlog::debug("train-organism: {} CPU threads", *train_threads);
    kvb::on_interrupt_say(fmt::format("the run is saved in {} every {} steps; the same command goes on from the last save",
                                      o->out_dir, o->save_every));
    const nlohmann::json acc = kvb::train_organism(*o);
    std::cout << "held-out exact answers (%): " << acc.dump() << "\n" << o->out_dir << "\n";
  };
}
