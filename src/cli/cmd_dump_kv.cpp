// `kvbench dump-kv --model DIR [--image F]... --prompt TEXT --queries N --out FILE [--attention]`
// Writes one real prefill in the format `kvbench compress --kv` reads.
#include <iostream>

#include "cli/command.h"
#include "cli/model_args.h"
#include "compress/kv_dump.h"
#include "engine/engine.h"

KVB_COMMAND(setup_dump_kv, "dump-kv", "Write a prefill's post-RoPE K/V (and last queries) as safetensors") {
  struct Args {
    kvb::cli::ModelArgs model;
    int64_t queries = 32;
    bool attention = false;
    std::string out;
  };
  auto a = std::make_shared<Args>();
  a->model.add_to(sub);
  sub.add_option("--queries", a->queries, "last N post-RoPE queries per layer (default 32; 0 = none)")
      ->check(kvb::cli::non_negative_integer());
  sub.add_flag("--attention", a->attention, "also write each layer's prefill attention mass [Hq, T]");
  sub.add_option("--out", a->out, "output .safetensors file")->required();
  return [a] {
    const std::vector<kvb::Message> messages = a->model.messages();  // prompt errors before the slow load
    auto model = kvb::load_model(a->model.model, a->model.load_options());
    kvb::Needs needs;
    needs.window_queries = a->queries;
    needs.prefill_attention = a->attention;
    const kvb::PrefillCapture cap = model->capture_prefill(messages, needs);
    kvb::write_kv_file(a->out, cap.info, cap.layers, cap.input_ids,
                       {{"model", a->model.model}, {"family", model->family()}, {"prompt", a->model.prompt}});
    std::cout << a->out << "\n";
  };
}
