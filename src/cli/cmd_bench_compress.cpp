// `kvbench bench-compress --geometry qwen2.5-vl-7b --tokens 2048,4096,8192`: times each method's
// compression of one prefill (random K/V/Q of the model's shape) next to two bounds measured in
// the same run: one FFTW DCT+IDCT pass over K and V, and one memory (read) pass over K and V.
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "compress/dct.h"
#include "compress/offline.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/registry.h"
#include "core/timer.h"

namespace {

using nlohmann::json;

const std::map<std::string, kvb::ModelGeometry>& geometries() {
  static const std::map<std::string, kvb::ModelGeometry> g = {
      {"qwen2.5-vl-7b", {28, 28, 4, 128}},
      {"qwen2.5-vl-3b", {36, 16, 2, 128}},
      {"llava-1.5-7b", {32, 32, 32, 128}},
  };
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_median(int repeats, F&& f) {
  f();  // warm-up: FFTW plans, allocator, caches
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    kvb::Timer t;
    f();
    ms.push_back(t.ms());
  }
  return median(ms);
}

// Random prefill of the geometry. Attention mass (H2O's capture during prefill) is random but
// valid: its O(T^2) capture belongs to the prefill, not to the compression step timed here.
kvb::OfflinePrefill synthetic(const kvb::ModelGeometry& g, int64_t t, int64_t window) {
  at::manual_seed(t);
  kvb::OfflinePrefill p;
  p.info.geometry = g;
  p.info.tokens = t;
  for (int64_t l = 0; l < g.layers; ++l) {
    kvb::LayerKV kv;
    kv.layer = l;
    kv.keys = at::randn({g.kv_heads, t, g.head_dim});
    kv.values = at::randn({g.kv_heads, t, g.head_dim});
    kv.window_queries = at::randn({g.q_heads, std::min(window, t), g.head_dim});
    kv.attention_mass = at::rand({g.q_heads, t}) * (static_cast<double>(t) / 16);
    p.layers.push_back(kv);
  }
  return p;
}

// One FFTW DCT-II + DCT-III of every layer's K and V (the work FlashCache cannot avoid).
double dct_bound(const kvb::OfflinePrefill& p, int repeats) {
  return time_median(repeats, [&] {
    at::parallel_for(0, static_cast<int64_t>(p.layers.size()), 1, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l)
        for (const auto* x : {&p.layers[l].keys, &p.layers[l].values}) {
          auto y = at::empty_like(*x), z = at::empty_like(*x);
          kvb::dct_raw(*x, y, kvb::DctKind::kII);
          kvb::dct_raw(y, z, kvb::DctKind::kIII);
        }
    });
  });
}

// One read pass over every layer's K and V.
double memory_bound(const kvb::OfflinePrefill& p, int repeats, double* sink) {
  return time_median(repeats, [&] {
    std::vector<double> part(p.layers.size());
    at::parallel_for(0, static_cast<int64_t>(p.layers.size()), 1, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l)
        for (const auto* x : {&p.layers[l].keys, &p.layers[l].values}) {
          const float* d = x->data_ptr<float>();
          float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          const int64_t n = x->numel();
          for (int64_t i = 0; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; ++j) acc[j] += d[i + j];
          for (float a : acc) part[l] += a;
        }
    });
    for (double v : part) *sink += v;  // keeps the pass from being optimised away
  });
}

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string table(const json& r) {
  const auto tokens = r["tokens"].get<std::vector<int64_t>>();
  std::string s = "| Method |";
  for (auto t : tokens) s += fmt::format(" {}K tokens (ms) |", t / 1024.0);
  s += " x bound at " + std::to_string(tokens.back()) + " |\n|---|";
  for (size_t i = 0; i <= tokens.size(); ++i) s += "---|";
  s += "\n";
  auto row = [&](const std::string& name, const json& ms, const std::string& ratio) {
    s += "| " + name + " |";
    for (auto t : tokens) {
      const auto key = std::to_string(t);
      s += ms.contains(key) ? fmt::format(" {:.2f} |", ms[key].get<double>()) : std::string(" - |");
    }
    s += " " + ratio + " |\n";
  };
  const auto last = std::to_string(tokens.back());
  for (const auto& [name, m] : r["methods"].items()) {
    if (m.contains("skipped")) {
      s += "| " + name + " | skipped: " + m["skipped"].get<std::string>() + " |\n";
      continue;
    }
    const bool freq = name == "flashcache";
    const double bound = r["bounds"][freq ? "dct_idct_ms" : "memory_pass_ms"][last].get<double>();
    row(name, m["ms"], fmt::format("{:.2f}x {}", m["ms"][last].get<double>() / bound, freq ? "DCT" : "memory"));
  }
  row("bound: FFTW DCT+IDCT pass", r["bounds"]["dct_idct_ms"], "");
  row("bound: memory pass over KV", r["bounds"]["memory_pass_ms"], "");
  return s;
}

}  // namespace

KVB_COMMAND(setup_bench_compress, "bench-compress",
            "Time each method's compression of one random prefill, with DCT and memory-pass bounds") {
  auto geometry = std::make_shared<std::string>("qwen2.5-vl-7b");
  auto tokens = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{2048, 4096, 8192});
  auto methods = std::make_shared<std::vector<std::string>>();
  auto ratio = std::make_shared<double>(0.2);
  auto repeats = std::make_shared<int>(3);
  auto window = std::make_shared<int64_t>(32);
  auto out = std::make_shared<std::string>("results/bench/compress.json");
  std::vector<std::string> names;
  for (const auto& [n, g] : geometries()) names.push_back(n);
  sub.add_option("--geometry", *geometry, "model shape")->check(CLI::IsMember(names));
  sub.add_option("--tokens", *tokens, "prefill lengths")->delimiter(',')->check(CLI::Range(int64_t{64}, int64_t{1} << 20));
  sub.add_option("--methods", *methods, "methods to time (default: all registered but full)")->delimiter(',');
  sub.add_option("--ratio", *ratio, "retention ratio")->check(CLI::Range(1e-6, 1.0));
  sub.add_option("--repeats", *repeats, "timed runs per cell (median reported)")->check(CLI::Range(1, 100));
  sub.add_option("--window", *window, "window queries provided per layer")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  sub.add_option("--out", *out, "JSON output");
  return [=] {
    const auto& reg = kvb::Registry<kvb::CompressionMethod>::instance();
    auto list = *methods;
    if (list.empty())
      for (const auto& n : reg.names())
        if (n != "full") list.push_back(n);
    const auto g = geometries().at(*geometry);
    json r = {{"geometry", {{"name", *geometry}, {"layers", g.layers}, {"q_heads", g.q_heads},
                            {"kv_heads", g.kv_heads}, {"head_dim", g.head_dim}}},
              {"tokens", *tokens}, {"ratio", *ratio}, {"repeats", *repeats}, {"window", *window},
              {"machine", {{"cpu", cpu_name()}, {"cores", std::thread::hardware_concurrency()},
                           {"torch_threads", at::get_num_threads()}}},
              {"methods", json::object()}, {"bounds", {{"dct_idct_ms", json::object()}, {"memory_pass_ms", json::object()}}}};
    kvb::Progress progress("bench-compress", static_cast<int64_t>(tokens->size() * (list.size() + 2)), "cells");
    double sink = 0;
    for (int64_t t : *tokens) {
      const auto key = std::to_string(t);
      auto p = synthetic(g, t, *window);
      progress.set_note(fmt::format("T={} bounds", t));
      r["bounds"]["dct_idct_ms"][key] = dct_bound(p, *repeats);
      progress.tick();
      r["bounds"]["memory_pass_ms"][key] = memory_bound(p, *repeats, &sink);
      progress.tick();
      for (const auto& name : list) {
        progress.set_note(fmt::format("T={} {}", t, name));
        auto m = reg.create(name, json::object());
        if (m->needs().prefill_summary) {
          r["methods"][name]["skipped"] = "needs an all-query prefill summary (O(T^2) capture)";
        } else {
          r["methods"][name]["ms"][key] = time_median(*repeats, [&] { kvb::compress_all(*m, p, *ratio, name); });
        }
        progress.tick();
      }
    }
    progress.finish();
    spdlog::debug("checksum {}", sink);
    const auto md = table(r);
    r["table_markdown"] = md;
    std::ofstream f(*out);
    KVB_CHECK(f && (f << r.dump(2) << "\n"), "cannot write {} (does its folder exist?)", *out);
    std::cout << md;
    spdlog::info("wrote {}", *out);
  };
}
