// `kvbench bench-compress --geometry qwen2.5-vl-7b --tokens 2048,4096,8192`: times each method's
// compression of one prefill (random K/V/Q of the model's shape, laid out like a VLM prompt:
// system text, one large image span, trailing question text) next to three bounds measured in
// the same run with the same threads: one FFTW DCT+IDCT pass over K and V, one memory (read)
// pass over K and V, and the window-attention GEMM (the arithmetic any window scorer must do).
// Whatever a method's Needs declare is supplied; per-layer prefill summaries (all-query
// statistics) are computed inside the timed section, as the engine does during prefill.
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <ctime>

#include "cli/command.h"
#include "compress/dct.h"
#include "compress/dct_fft.h"
#include "compress/offline.h"
#include "core/blas_core.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/progress.h"
#include "core/registry.h"
#include "core/timer.h"

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

const std::map<std::string, kvb::ModelGeometry>& geometries() {
  static const std::map<std::string, kvb::ModelGeometry> g = {
      {"qwen2.5-vl-7b", {28, 28, 4, 128}},
      {"qwen2.5-vl-3b", {36, 16, 2, 128}},
      {"llava-1.5-7b", {32, 32, 32, 128}},
      {"llava-onevision-7b", {28, 28, 4, 128}},  // Qwen2-7B
  };
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Waits for the device's queued work (a scalar read back syncs the stream everything ran on);
// no-op on CPU. Set by --device.
at::Device g_device = at::kCPU;
void sync() {
  if (!g_device.is_cpu()) at::zeros({1}, at::TensorOptions().device(g_device)).sum().item<float>();
}

// --clock cpu: process CPU time instead of wall time (with --threads 1 it is the work done,
// whatever else the machine runs; wall time on a loaded shared machine is mostly waiting).
bool g_cpu_clock = false;
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// Every timed run of the last time_median call (min and median go into the JSON).
std::vector<double> g_last_runs;

template <class F>
double time_median(int repeats, F&& f) {
  f();  // warm-up: FFTW plans, allocator, caches
  sync();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    kvb::Timer t;
    const double c0 = cpu_ms();
    f();
    sync();
    ms.push_back(g_cpu_clock ? cpu_ms() - c0 : t.ms());
  }
  g_last_runs = ms;
  return median(ms);
}

// Text tokens around the image in the synthetic prompt: Qwen2.5-VL's chat template up to
// <|vision_start|> is ~16 tokens; a benchmark question plus the assistant header ~48.
constexpr int64_t kLeadText = 16, kTailText = 48;

// Random prefill of the geometry with a text / image / text modality layout. Attention mass
// (H2O's capture during prefill) is random but valid: its O(T^2) capture belongs to the
// prefill, not to the compression step timed here.
kvb::OfflinePrefill synthetic(const kvb::ModelGeometry& g, int64_t t, int64_t window) {
  at::manual_seed(t);
  kvb::OfflinePrefill p;
  p.info.geometry = g;
  p.info.tokens = t;
  p.info.modality = at::zeros({t}, at::kByte);
  p.info.modality.narrow(0, kLeadText, t - kLeadText - kTailText).fill_(int64_t(kvb::kImage));
  p.info.media = {{kLeadText, t - kTailText, kvb::kImage}};
  for (int64_t l = 0; l < g.layers; ++l) {
    kvb::LayerKV kv;
    kv.layer = l;
    kv.keys = at::randn({g.kv_heads, t, g.head_dim});
    kv.values = at::randn({g.kv_heads, t, g.head_dim});
    kv.window_queries = at::randn({g.q_heads, std::min(window, t), g.head_dim});
    kv.attention_mass = at::rand({g.q_heads, t}) * (static_cast<double>(t) / 16);
    if (!g_device.is_cpu())
      for (auto* x : {&kv.keys, &kv.values, &kv.window_queries, &kv.attention_mass}) *x = x->to(g_device);
    p.layers.push_back(kv);
  }
  return p;
}

// One FFTW DCT-II + DCT-III of every layer's K and V along the token axis (the work FlashCache
// cannot avoid), run as FlashCache runs it: blocks of D-columns through both transforms while
// they sit in cache (highpass_sumsq with nothing masked). With KVB_DCT_ALGO set, as before the
// fusing: x transposed to [Hkv * D, T] rows and two dct_rows passes through memory.
// Off the CPU: the ATen-FFT DCT pair FlashCache runs there (cuFFT), on [Hkv, T, D] as is.
double dct_bound(const kvb::OfflinePrefill& p, int repeats) {
  if (!g_device.is_cpu())
    return time_median(repeats, [&] {
      for (const auto& l : p.layers)
        for (const auto* x : {&l.keys, &l.values})
          kvb::dct_raw_fft(kvb::dct_raw_fft(*x, kvb::DctKind::kII), kvb::DctKind::kIII);
    });
  const bool fused = kvb::dct_fused();
  return time_median(repeats, [&] {
    for (const auto& l : p.layers)
      for (const auto* x : {&l.keys, &l.values}) {
        const int64_t h = x->size(0), t = x->size(1), d = x->size(2);
        if (fused) {
          at::Tensor sumsq = at::zeros({h, t}, at::kFloat);
          kvb::highpass_sumsq(*x, 0, sumsq);
          continue;
        }
        auto rows = x->transpose(1, 2).contiguous().view({h * d, t});
        auto y = at::empty_like(rows), z = at::empty_like(rows);
        kvb::dct_rows(rows, y, kvb::DctKind::kII);
        kvb::dct_rows(y, z, kvb::DctKind::kIII);
      }
  });
}

// The window-attention logits of every layer: [Hkv, G*W, D] x [Hkv, D, T] (no softmax, no
// pooling): the multiply-adds any method scoring tokens by window attention cannot avoid.
double gemm_bound(const kvb::OfflinePrefill& p, int repeats) {
  return time_median(repeats, [&] {
    for (const auto& l : p.layers) {
      const auto& q = l.window_queries;
      at::bmm(q.reshape({l.keys.size(0), -1, q.size(2)}), l.keys.transpose(1, 2));
    }
  });
}

// One read pass over every layer's K and V.
double memory_bound(const kvb::OfflinePrefill& p, int repeats, double* sink) {
  if (!g_device.is_cpu())  // one reduction per tensor reads it once
    return time_median(repeats, [&] {
      for (const auto& l : p.layers)
        for (const auto* x : {&l.keys, &l.values}) x->sum();
    });
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

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "unknown";
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

const char* const kBounds[] = {"memory_pass_ms", "dct_idct_ms", "window_gemm_ms"};

std::string table(const json& r) {
  const auto tokens = r["tokens"].get<std::vector<int64_t>>();
  const auto last = std::to_string(tokens.back());
  std::string s = "| Method |";
  for (auto t : tokens) s += fmt::format(" {}K tokens (ms) |", t / 1024.0);
  s += fmt::format(" x memory pass at {0} | x DCT at {0} | x GEMM at {0} |\n|---|", last);
  for (size_t i = 0; i < tokens.size() + 3; ++i) s += "---|";
  s += "\n";
  auto row = [&](const std::string& name, const json& ms) {
    s += "| " + name + " |";
    for (auto t : tokens) {
      const auto key = std::to_string(t);
      s += ms.contains(key) ? fmt::format(" {:.2f} |", ms[key].get<double>()) : std::string(" - |");
    }
    for (const char* b : kBounds)
      s += ms.contains(last) ? fmt::format(" {:.2f}x |", ms[last].get<double>() / r["bounds"][b][last].get<double>())
                             : std::string(" - |");
    s += "\n";
  };
  for (const auto& [name, m] : r["methods"].items()) row(name, m.value("ms", json::object()));
  row("bound: memory pass over KV", r["bounds"]["memory_pass_ms"]);
  row(r.value("device", "cpu") == "cpu" ? "bound: FFTW DCT+IDCT pass" : "bound: cuFFT DCT+IDCT pass", r["bounds"]["dct_idct_ms"]);
  row("bound: window-attention GEMM", r["bounds"]["window_gemm_ms"]);
  return s;
}

// One method over one prefill: layer summaries (when the method asks for them) from the
// shared all-query tensor, then budgets and every layer's plan.
void run_method(kvb::CompressionMethod& m, kvb::OfflinePrefill& p, const at::Tensor& all_queries,
                double ratio, const std::string& name) {
  if (m.needs().prefill_summary)
    for (auto& l : p.layers) l.summary = m.summarize_prefill(l, all_queries, p.info);
  kvb::compression_step(m, p.layers, p.info, ratio, name);
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
  auto device = std::make_shared<std::string>("cpu");
  auto clock = std::make_shared<std::string>("wall");
  auto threads = std::make_shared<int>(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::vector<std::string> names;
  for (const auto& [n, g] : geometries()) names.push_back(n);
  sub.add_option("--geometry", *geometry, "model shape")->check(CLI::IsMember(names));
  sub.add_option("--tokens", *tokens, "prefill lengths")->delimiter(',')->check(CLI::Range(int64_t{128}, int64_t{1} << 20));
  sub.add_option("--methods", *methods, "methods to time (default: all registered but full)")->delimiter(',');
  sub.add_option("--ratio", *ratio, "retention ratio")->check(CLI::Range(1e-6, 1.0));
  sub.add_option("--repeats", *repeats, "timed runs per cell (median reported)")->check(CLI::Range(1, 100));
  sub.add_option("--window", *window, "window queries provided per layer")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  sub.add_option("--threads", *threads, "intra-op threads for methods and bounds alike (default: all cores)")
      ->check(CLI::Range(1, 1024));
  sub.add_option("--out", *out, "JSON output");
  sub.add_option("--device", *device, "cpu | cuda | cuda:N: where the prefill lives and every method and bound runs (default cpu)");
  sub.add_option("--clock", *clock, "wall (default) | cpu: process CPU time (use with --threads 1 on a loaded machine)")
      ->check(CLI::IsMember({"wall", "cpu"}));
  return [=] {
    // The output's folder is made (or found unwritable) before minutes of timing, not after.
    const fs::path out_dir = fs::path(*out).parent_path();
    std::error_code ec;
    if (!out_dir.empty()) fs::create_directories(out_dir, ec);
    KVB_CHECK(!ec && ::access(out_dir.empty() ? "." : out_dir.c_str(), W_OK) == 0, "--out {}: cannot write there ({})",
              *out, ec ? ec.message() : std::string(std::strerror(errno)));
    kvb::use_threads(*threads);
    g_device = at::Device(*device);
    g_cpu_clock = *clock == "cpu";
    const auto& reg = kvb::Registry<kvb::CompressionMethod>::instance();
    auto list = *methods;
    if (list.empty())
      for (const auto& n : reg.names())
        if (n != "full") list.push_back(n);
    for (const auto& n : list) reg.create(n, json::object());  // a misspelt name fails now, not after the bounds
    const auto g = geometries().at(*geometry);
    json r = {{"geometry", {{"name", *geometry}, {"layers", g.layers}, {"q_heads", g.q_heads},
                            {"kv_heads", g.kv_heads}, {"head_dim", g.head_dim}}},
              {"tokens", *tokens}, {"ratio", *ratio}, {"device", *device}, {"clock", *clock}, {"repeats", *repeats}, {"window", *window},
              {"machine", {{"cpu", cpu_name()}, {"cores", std::thread::hardware_concurrency()},
                           {"torch_threads", at::get_num_threads()},
                           {"omp_wait_policy", env_or("OMP_WAIT_POLICY", "unset")},
                           {"openblas_core", kvb::openblas_core()}, {"openblas_threads", kvb::openblas_threads()},
                           {"load_average_start", load_average()}}},
              {"layout", {{"lead_text", kLeadText}, {"image", "the rest"}, {"tail_text", kTailText}}},
              {"methods", json::object()},
              {"bounds", {{"dct_idct_ms", json::object()}, {"memory_pass_ms", json::object()},
                          {"window_gemm_ms", json::object()}}}};
    kvb::Progress progress("bench-compress", static_cast<int64_t>(tokens->size() * (list.size() + 3)), "cells");
    double sink = 0;
    for (int64_t t : *tokens) {
      const auto key = std::to_string(t);
      auto p = synthetic(g, t, *window);
      progress.set_note(fmt::format("T={} bounds", t));
      r["bounds"]["dct_idct_ms"][key] = dct_bound(p, *repeats);
      r["runs_ms"]["bound:dct_idct"][key] = g_last_runs;
      if (g_device.is_cpu())  // fused blocks are always Makhoul; dct_rows picks per length (timed once)
        r["dct_algorithm"][key] = kvb::dct_fused() ? std::string("makhoul, fused per column block")
                                                   : kvb::dct_algo_name(kvb::dct_rows_choice(kvb::DctKind::kII, t)) + "/" +
                                                         kvb::dct_algo_name(kvb::dct_rows_choice(kvb::DctKind::kIII, t));
      progress.tick();
      r["bounds"]["memory_pass_ms"][key] = memory_bound(p, *repeats, &sink);
      progress.tick();
      r["bounds"]["window_gemm_ms"][key] = gemm_bound(p, *repeats);
      r["runs_ms"]["bound:window_gemm"][key] = g_last_runs;
      progress.tick();
      at::Tensor all_queries;  // one [Hq, T, D] shared by every layer: 8K x 28 layers would not fit
      for (const auto& name : list) {
        progress.set_note(fmt::format("T={} {}", t, name));
        auto m = reg.create(name, json::object());
        const auto needs = m->needs();
        if (needs.prefill_summary && !all_queries.defined())
          all_queries = at::randn({g.q_heads, t, g.head_dim}).to(g_device);
        r["methods"][name]["needs"] = {{"window_queries", needs.window_queries},
                                       {"prefill_attention", needs.prefill_attention},
                                       {"prefill_summary", needs.prefill_summary}};
        try {
          r["methods"][name]["ms"][key] = time_median(*repeats, [&] { run_method(*m, p, all_queries, *ratio, name); });
          r["runs_ms"][name][key] = g_last_runs;
        } catch (const std::exception& e) {  // one method failing (e.g. not yet on this device) is a recorded cell
          r["methods"][name]["errors"][key] = e.what();
          spdlog::warn("{} at T={}: {}", name, t, e.what());
        }
        progress.tick();
      }
    }
    progress.finish();
    r["machine"]["load_average_end"] = load_average();
    spdlog::debug("checksum {}", sink);
    const auto md = table(r) + fmt::format("\n{} threads, OMP_WAIT_POLICY={}, OpenBLAS core {} ({} threads), load average {} -> {}\n",
                                           at::get_num_threads(), r["machine"]["omp_wait_policy"].get<std::string>(),
                                           r["machine"]["openblas_core"].get<std::string>(), r["machine"]["openblas_threads"].get<int>(),
                                           r["machine"]["load_average_start"].get<std::string>(),
                                           r["machine"]["load_average_end"].get<std::string>());
    r["table_markdown"] = md;
    std::ofstream f(*out);
    KVB_CHECK(f && (f << r.dump(2) << "\n"), "cannot write {} (does its folder exist?)", *out);
    std::cout << md;
    spdlog::info("wrote {}", *out);
  };
}
