// kvbench driver: parses the command line, dispatches to self-registered subcommands and maps
// failures to exit codes (0 ok, 1 runtime error, 2 usage error) with one message on stderr.
#include <spdlog/spdlog.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <new>
#include <thread>

#include "cli/command.h"
#include "core/blas_core.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/version.h"
#include "core/log.h"

namespace kvb::cli {
std::vector<CommandDef>& commands() {
  static std::vector<CommandDef> all;
  return all;
}
}  // namespace kvb::cli

int main(int argc, char** argv) {
  kvb::restart_with_fast_openblas_kernels(argv);
  CLI::App app{"kvbench: KV-cache compression harness for vision-language models"};
  app.require_subcommand(1);
  const std::string blas = kvb::openblas_core();
  app.set_version_flag("--version", std::string("kvbench ") + kvb::version() + " (" + kvb::git_commit() + ")" +
                                        (blas.empty() ? "" : ", OpenBLAS " + blas));
  bool verbose = false, quiet = false;
  int threads = 0;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.add_flag("-q,--quiet", quiet, "warnings and errors only");
  app.add_option("--threads", threads,
                 "CPU threads for torch (default: OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK, else the CPU affinity mask)")
      ->check(CLI::PositiveNumber);

  auto& defs = kvb::cli::commands();
  std::sort(defs.begin(), defs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<const CLI::App*, std::function<void()>> actions;
  for (auto& def : defs) {
    CLI::App* sub = app.add_subcommand(def.name, def.help);
    actions[sub] = def.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help/version (code 0) or the usage error
    return code == 0 ? 0 : 2;
  }

  kvb::init_logging(quiet ? kvb::Verbosity::Quiet : verbose ? kvb::Verbosity::Verbose : kvb::Verbosity::Normal);
  try {
    const kvb::ThreadAllotment allot = threads > 0 ? kvb::ThreadAllotment{threads, "--threads"} : kvb::allotted_threads();
    kvb::use_threads(allot.threads);
    spdlog::debug("{} torch threads, {} OpenBLAS threads ({})", allot.threads, kvb::openblas_threads(), allot.source);
    for (const CLI::App* sub : app.get_subcommands()) actions.at(sub)();
  } catch (const kvb::UsageError& e) {
    std::cerr << "kvbench: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {  // torch errors: the message, not torch's stack dump
    std::cerr << "kvbench: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {  // "std::bad_alloc" alone does not tell a user what happened
    std::cerr << "kvbench: error: out of memory: an input asks for more memory than this machine has"
                 " (check sizes in the files named above, --limit, or the model's dtype)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "kvbench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
