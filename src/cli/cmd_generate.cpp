// `kvbench generate --model DIR ([--image F]... [--video F] --prompt TEXT | --messages FILE.json) [--max-new-tokens N]
//  [--method NAME --ratio R --set k=v] [--continuation TEXT]... [--json]`
#include <iostream>

#include "cli/command.h"
#include "cli/model_args.h"
#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "engine/engine.h"

KVB_COMMAND(setup_generate, "generate", "Answer one prompt (with images/videos) under a compression method") {
  struct Args {
    kvb::cli::ModelArgs model;
    int64_t max_new_tokens = 32;
    std::string method = "full";
    double ratio = 1.0;
    std::vector<std::string> sets, continuations;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  a->model.add_to(sub);
  sub.add_option("--max-new-tokens", a->max_new_tokens, "generation length (default 32)")->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  sub.add_option("--method", a->method, "compression method (see `kvbench list methods`; default full)");
  sub.add_option("--ratio", a->ratio, "KV retention ratio rho in (0, 1] (default 1)")->check(CLI::Range(0.0, 1.0));
  sub.add_option("--set", a->sets, "method parameter key=value (repeatable)");
  sub.add_option("--continuation", a->continuations, "score this continuation's log-likelihood instead of generating (repeatable)");
  sub.add_flag("--json", a->json, "print a JSON record with ids, timings and KV bytes");
  return [a] {
    nlohmann::json mcfg = nlohmann::json::object();
    kvb::apply_overrides(mcfg, a->sets, "--set");
    auto method = kvb::Registry<kvb::CompressionMethod>::instance().create(a->method, mcfg);
    const std::vector<kvb::Message> messages = a->model.messages();  // prompt errors before the slow load
    auto model = kvb::load_model(a->model.model, a->model.load_options());
    kvb::GenerationOptions opt;
    opt.max_new_tokens = a->max_new_tokens;
    opt.ratio = a->ratio;
    opt.continuations = a->continuations;
    const kvb::GenerationResult r = model->generate(messages, opt, *method);
    if (!a->json) {
      if (r.continuation_logprobs.empty()) std::cout << r.text << "\n";
      for (size_t i = 0; i < r.continuation_logprobs.size(); ++i)
        std::cout << r.continuation_logprobs[i] << "\t" << a->continuations[i] << "\n";
      return;
    }
    double decode_total = 0;
    for (double d : r.decode_ms) decode_total += d;
    nlohmann::json j = {{"text", r.text},
                        {"ids", r.ids},
                        {"stop_reason", r.stop_reason},
                        {"method", a->method},
                        {"params", method->params()},
                        {"ratio", a->ratio},
                        {"prompt_tokens", r.prompt_tokens},
                        {"media_tokens", r.media_tokens},
                        {"vision_ms", r.vision_ms},
                        {"prefill_ms", r.prefill_ms},
                        {"compress_ms", r.compress_ms},
                        {"decode_ms", r.decode_ms},
                        {"decode_ms_total", decode_total},
                        {"kv_bytes_before", r.kv_bytes_before},
                        {"kv_bytes_after", r.kv_bytes_after},
                        {"kept_tokens", r.kept_tokens},
                        {"layer_budgets", r.layer_budgets}};
    if (!r.continuation_logprobs.empty()) {
      j["continuations"] = a->continuations;
      j["continuation_logprobs"] = r.continuation_logprobs;
      j["continuation_tokens"] = r.continuation_tokens;
    }
    std::cout << j.dump(2) << "\n";
  };
}
