// `kvbench dump-kv --model DIR [--image F]... --prompt TEXT --queries N --out FILE [--attention]`
// Writes one real prefill in the format `kvbench compress --kv` reads.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/model_args.h"
#include "core/safetensors.h"
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
    std::vector<std::pair<std::string, at::Tensor>> t;
    for (const auto& l : cap.layers) {
      const std::string p = fmt::format("layers.{}.", l.layer);
      t.emplace_back(p + "keys", l.keys.to(at::kFloat).cpu());
      t.emplace_back(p + "values", l.values.to(at::kFloat).cpu());
      if (l.window_queries.defined()) t.emplace_back(p + "queries", l.window_queries.to(at::kFloat).cpu());
      if (l.attention_mass.defined()) t.emplace_back(p + "attention_mass", l.attention_mass.to(at::kFloat).cpu());
    }
    t.emplace_back("modality", cap.info.modality.to(at::kByte).cpu());
    t.emplace_back("input_ids", cap.input_ids.cpu());
    nlohmann::json spans = nlohmann::json::array();
    for (const auto& s : cap.info.media) spans.push_back({s.begin, s.end, s.modality});
    const auto& g = cap.info.geometry;
    kvb::write_safetensors(a->out, t,
                           {{"model", a->model.model},
                            {"family", model->family()},
                            {"prompt", a->model.prompt},
                            {"tokens", std::to_string(cap.info.tokens)},
                            {"geometry", nlohmann::json{{"layers", g.layers}, {"q_heads", g.q_heads},
                                                        {"kv_heads", g.kv_heads}, {"head_dim", g.head_dim}}
                                             .dump()},
                            {"media", spans.dump()}});
    std::cout << a->out << "\n";
  };
}
