// `kvbench compress --kv FILE --method NAME --ratio R [--set k=v]... [--out plan.json]`:
// runs one compression method on a KV dump and writes the keep plan, so any method can be
// studied (or checked against another implementation) offline.
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "compress/offline.h"
#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"

KVB_COMMAND(setup_compress, "compress", "Run a compression method on a KV dump (safetensors) and print its keep plan") {
  auto kv = std::make_shared<std::string>();
  auto method = std::make_shared<std::string>();
  auto ratio = std::make_shared<double>(0.2);
  auto sets = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  sub.add_option("--kv", *kv,
                 "safetensors: layers.{l}.keys / values [Hkv,T,D] f32, optional layers.{l}.queries [Hq,Tq,D], "
                 "optional modality [T] u8")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--method", *method, "method name (kvbench list methods)")->required();
  sub.add_option("--ratio", *ratio, "retention ratio rho in (0, 1]")->required();
  sub.add_option("--set", *sets, "method parameter override key=value (repeatable)");
  sub.add_option("--out", *out, "write the plan JSON here instead of stdout");
  return [=] {
    nlohmann::json cfg = nlohmann::json::object();
    kvb::apply_overrides(cfg, *sets, "method '" + *method + "'");
    auto m = kvb::Registry<kvb::CompressionMethod>::instance().create(*method, cfg);
    kvb::uniform_budget(*ratio, 1);  // validates the ratio before reading a large file
    auto prefill = kvb::read_kv_file(*kv);
    spdlog::info("{}: {} layers, T={}, {} kv heads x {}, {} q heads", *kv, prefill.layers.size(),
                 prefill.info.tokens, prefill.info.geometry.kv_heads, prefill.info.geometry.head_dim,
                 prefill.info.geometry.q_heads);
    kvb::prepare_needs(prefill, *m, *method, *kv);
    kvb::Timer timer;
    auto result = kvb::compression_step(*m, prefill.layers, prefill.info, *ratio, *method);
    spdlog::info("{} at rho={}: compressed in {:.2f} ms", *method, *ratio, timer.ms());
    const auto text = kvb::plans_to_json(result, *m, *method, *ratio).dump() + "\n";
    if (out->empty()) {
      std::cout << text;
      return;
    }
    std::ofstream f(*out);
    KVB_CHECK(f && (f << text), "cannot write {}", *out);
    spdlog::info("wrote {}", *out);
  };
}
