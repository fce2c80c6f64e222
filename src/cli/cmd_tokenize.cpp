// `kvbench tokenize --tokenizer PATH [--add-special-tokens] [--decode [--skip-special-tokens]] [--stats]`
// Filter: one JSON string per stdin line -> one JSON array of ids per stdout line; with
// --decode, one JSON array of ids per line -> one JSON string per line.
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "core/json_parse.h"
#include "text/tokenizer.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// CPU time of this process: steadier than wall time on a shared machine.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

KVB_COMMAND(setup_tokenize, "tokenize", "Encode JSON strings (one per stdin line) to ids, or decode id arrays") {
  auto path = std::make_shared<std::string>();
  auto add_special = std::make_shared<bool>(false);
  auto decode = std::make_shared<bool>(false);
  auto skip_special = std::make_shared<bool>(false);
  auto stats = std::make_shared<bool>(false);
  sub.add_option("--tokenizer", *path, "tokenizer.json, or a model folder holding one")->required();
  sub.add_flag("--add-special-tokens", *add_special, "apply the post-processor (e.g. LLaMA's leading <s>)");
  sub.add_flag("--decode", *decode, "read JSON arrays of ids and write JSON strings");
  sub.add_flag("--skip-special-tokens", *skip_special, "with --decode: leave special tokens out");
  sub.add_flag("--stats", *stats, "print timing and token counts as one JSON line on stderr");
  return [=] {
    const auto t0 = Clock::now();
    const kvb::Tokenizer tok = kvb::Tokenizer::from_file(*path);
    const double load_s = seconds_since(t0);
    spdlog::debug("loaded {} ({} ids) in {:.2f} s", *path, tok.vocab_size(), load_s);

    std::ios::sync_with_stdio(false);
    std::string line, out;
    int64_t lineno = 0, lines = 0, bytes = 0, tokens = 0;
    double work_s = 0, work_cpu_s = 0;
    while (std::getline(std::cin, line)) {
      ++lineno;
      if (line.empty() || line == "\r") continue;
      json in;
      try {
        in = kvb::parse_json(line);
      } catch (const json::exception& e) {
        KVB_FAIL("stdin line {}: not valid JSON: {}", lineno, e.what());
      }
      const auto t = Clock::now();
      const double c = cpu_seconds();
      if (*decode) {
        KVB_CHECK(in.is_array(), "stdin line {}: --decode expects a JSON array of ids", lineno);
        std::vector<int64_t> ids;
        for (const json& v : in) {
          KVB_CHECK(v.is_number_integer(), "stdin line {}: ids must be integers (got {})", lineno, v.dump());
          ids.push_back(v.get<int64_t>());
        }
        const std::string text = tok.decode(ids, *skip_special);
        work_s += seconds_since(t);
        work_cpu_s += cpu_seconds() - c;
        tokens += static_cast<int64_t>(ids.size());
        bytes += static_cast<int64_t>(text.size());
        out = json(text).dump(-1, ' ', false, json::error_handler_t::replace);
      } else {
        KVB_CHECK(in.is_string(), "stdin line {}: expected a JSON string (use --decode for id arrays)", lineno);
        const std::string& text = in.get_ref<const std::string&>();
        const std::vector<int64_t> ids = tok.encode(text, *add_special);
        work_s += seconds_since(t);
        work_cpu_s += cpu_seconds() - c;
        tokens += static_cast<int64_t>(ids.size());
        bytes += static_cast<int64_t>(text.size());
        out = json(ids).dump();
      }
      ++lines;
      std::cout << out << '\n';
    }
    std::cout.flush();
    if (*stats) {
      std::cerr << json{{"lines", lines},
                        {"bytes", bytes},
                        {"tokens", tokens},
                        {"load_s", load_s},
                        {*decode ? "decode_s" : "encode_s", work_s},
                        {*decode ? "decode_cpu_s" : "encode_cpu_s", work_cpu_s},
                        {"tokens_per_s", work_s > 0 ? tokens / work_s : 0.0}}
                       .dump()
                << "\n";
    }
  };
}
